namespace Ingest.Silo.Storage.Analytics;

/// <summary>A live segment picked for compaction, as its catalog row describes it.</summary>
internal sealed record SegmentInput(
    Guid Id, string Path, long Events, DateTimeOffset MinReceivedAt, DateTimeOffset MaxReceivedAt, int Level);
