namespace Ingest.Silo.Storage.Analytics;

/// <summary>A segment as its catalog row describes it.</summary>
internal sealed record SegmentRow(
    Guid Id, string Path, long Events, DateTimeOffset MinReceivedAt, DateTimeOffset MaxReceivedAt, int Level);
