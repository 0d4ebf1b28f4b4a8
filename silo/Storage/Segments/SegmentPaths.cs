using System.Globalization;

namespace Ingest.Silo.Storage.Segments;

/// <summary>Where segments live under the shared directory: one folder per UTC day, a layout that could sit in object storage.</summary>
public static class SegmentPaths
{
    /// <summary>The path of a segment relative to the shared directory, with forward slashes: <c>events/date=2026-11-21/&lt;id&gt;.parquet</c>.</summary>
    public static string For(DateTimeOffset firstReceivedAt, Guid id) =>
        string.Create(CultureInfo.InvariantCulture, $"events/date={firstReceivedAt.UtcDateTime:yyyy-MM-dd}/{id:D}.parquet");
}
