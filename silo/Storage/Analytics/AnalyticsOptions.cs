using System.Globalization;

namespace Ingest.Silo.Storage.Analytics;

/// <summary>
/// The cluster's shared analytics storage: Parquet segments under one directory every node
/// mounts, listed in the PostgreSQL catalog. Bound from the <c>Analytics</c> configuration section.
/// </summary>
public sealed class AnalyticsOptions
{
    public const string Section = "Analytics";

    /// <summary>The directory every node shares (segments, streams snapshots, <c>catalog.duckdb</c>); empty when the node is not clustered.</summary>
    public string SharedDirectory { get; set; } = string.Empty;

    /// <summary>How often the maintainer compacts, publishes <c>catalog.duckdb</c> and collects files.</summary>
    public TimeSpan PublishInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A level is compacted once it has more live segments than this.</summary>
    public int CompactionThreshold { get; set; } = 16;

    /// <summary>The most segments one compaction merges.</summary>
    public int CompactionMaxInputs { get; set; } = 64;

    /// <summary>
    /// How long a retired, superseded or orphaned file is kept before it is deleted, so a reader
    /// holding an older catalog can finish its query.
    /// </summary>
    public TimeSpan RetiredGrace { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Recorded as <c>segments.created_by</c>.</summary>
    public string NodeName { get; set; } = Environment.MachineName;

    /// <summary>How long a node's sink gathers flushes, counted from the oldest, before sealing them into a segment.</summary>
    public TimeSpan SegmentInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>True when the node writes to the shared storage.</summary>
    public bool Clustered => !string.IsNullOrWhiteSpace(SharedDirectory);

    /// <summary>What is wrong with these options, in words a user can act on; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        // A missing directory usually means the shared volume is not mounted: creating a local
        // one instead would split the cluster's data silently.
        if (Clustered && !Directory.Exists(SharedDirectory))
            errors.Add($"{Section}:{nameof(SharedDirectory)} '{SharedDirectory}' does not exist; mount the shared storage there or create the directory.");
        // Visible within 10 s of the acknowledgement: a segment waits up to SegmentInterval, then up to PublishInterval.
        if (PublishInterval < TimeSpan.FromMilliseconds(100) || PublishInterval > TimeSpan.FromSeconds(5))
            errors.Add($"{Section}:{nameof(PublishInterval)} must be between 00:00:00.1 and 00:00:05, so new data is visible within 10 seconds; it is {Format(PublishInterval)}.");
        if (SegmentInterval < TimeSpan.FromMilliseconds(10) || SegmentInterval > TimeSpan.FromSeconds(4))
            errors.Add($"{Section}:{nameof(SegmentInterval)} must be between 00:00:00.01 and 00:00:04; it is {Format(SegmentInterval)}.");
        if (CompactionThreshold < 2)
            errors.Add($"{Section}:{nameof(CompactionThreshold)} must be at least 2; it is {CompactionThreshold}.");
        if (CompactionMaxInputs < 2)
            errors.Add($"{Section}:{nameof(CompactionMaxInputs)} must be at least 2; it is {CompactionMaxInputs}.");
        // A retired file stays listed in catalog.duckdb until the next publication.
        if (RetiredGrace < 2 * PublishInterval)
            errors.Add($"{Section}:{nameof(RetiredGrace)} must be at least twice {nameof(PublishInterval)} ({Format(2 * PublishInterval)}), so readers of the previous catalog can finish; it is {Format(RetiredGrace)}.");
        if (string.IsNullOrWhiteSpace(NodeName))
            errors.Add($"{Section}:{nameof(NodeName)} must name this node, e.g. its host name.");
        return errors;
    }

    private static string Format(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
}
