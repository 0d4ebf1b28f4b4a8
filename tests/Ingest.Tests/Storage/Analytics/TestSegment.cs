namespace Ingest.Tests.Storage.Analytics;

/// <summary>A segment a test wrote: its row's values and where its file is.</summary>
internal sealed record TestSegment(
    Guid Id, string Path, string File, long Events, DateTimeOffset MinReceivedAt, DateTimeOffset MaxReceivedAt, int Level);
