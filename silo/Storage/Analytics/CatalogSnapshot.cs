namespace Ingest.Silo.Storage.Analytics;

/// <summary>
/// What the catalog lists at one moment: the live segments and the current streams snapshot,
/// paths relative to the shared directory.
/// </summary>
/// <param name="SegmentPaths">Live segments, oldest events first (by <c>min_received_at</c>, then id).</param>
/// <param name="Generation">The current streams snapshot's generation; 0 before the first publication.</param>
/// <param name="StreamsPath">The current streams snapshot; null before the first publication.</param>
/// <param name="PublishedAt">When the catalog was last published; null before the first publication.</param>
public sealed record CatalogSnapshot(
    IReadOnlyList<string> SegmentPaths, long Generation, string? StreamsPath, DateTimeOffset? PublishedAt)
{
    public static CatalogSnapshot Empty { get; } = new([], 0, null, null);
}
