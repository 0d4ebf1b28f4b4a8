using System.Globalization;

namespace Ingest.Silo.Storage.Analytics;

/// <summary>
/// Where things live under the shared directory. Paths kept in PostgreSQL are relative to it,
/// with forward slashes, so every node can mount the directory wherever it likes.
/// </summary>
internal static class SharedLayout
{
    public const string EventsDirectory = "events";
    public const string CatalogDirectory = "catalog";
    public const string CatalogFile = "catalog.duckdb";

    /// <summary>Ends the name of every file still being written; the collector removes leftovers.</summary>
    public const string TempMarker = ".tmp";

    private const string StreamsPrefix = "streams-";
    private const string ParquetExtension = ".parquet";

    /// <summary><c>events/date=YYYY-MM-DD/&lt;id&gt;.parquet</c>.</summary>
    public static string SegmentPath(DateOnly day, Guid id) =>
        $"{EventsDirectory}/date={day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}/{id:D}{ParquetExtension}";

    /// <summary><c>catalog/streams-&lt;generation&gt;.parquet</c>.</summary>
    public static string StreamsPath(long generation) =>
        $"{CatalogDirectory}/{StreamsPrefix}{generation.ToString(CultureInfo.InvariantCulture)}{ParquetExtension}";

    /// <summary>The generation a streams snapshot's file name carries; false for any other file.</summary>
    public static bool TryParseStreamsGeneration(string fileName, out long generation)
    {
        generation = 0;
        return fileName.StartsWith(StreamsPrefix, StringComparison.Ordinal)
            && fileName.EndsWith(ParquetExtension, StringComparison.Ordinal)
            && long.TryParse(
                fileName.AsSpan(StreamsPrefix.Length, fileName.Length - StreamsPrefix.Length - ParquetExtension.Length),
                NumberStyles.None, CultureInfo.InvariantCulture, out generation);
    }

    public static bool IsSegmentFile(string fileName) => fileName.EndsWith(ParquetExtension, StringComparison.Ordinal);

    public static string Absolute(string sharedDirectory, string relativePath) =>
        Path.GetFullPath(Path.Combine(sharedDirectory, relativePath));

    public static string Relative(string sharedDirectory, string absolutePath) =>
        Path.GetRelativePath(sharedDirectory, absolutePath).Replace('\\', '/');

    /// <summary>A name of its own next to <paramref name="absolutePath"/>, to write to and then rename into place.</summary>
    public static string TempPathFor(string absolutePath) =>
        $"{absolutePath}.{Guid.NewGuid():N}{TempMarker}";
}
