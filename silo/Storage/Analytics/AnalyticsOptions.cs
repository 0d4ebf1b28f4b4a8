namespace Ingest.Silo.Storage.Analytics;

/// <summary>Shared analytics storage for a cluster; bound from the <c>Analytics</c> configuration section.</summary>
public sealed class AnalyticsOptions
{
    public const string Section = "Analytics";

    /// <summary>The directory every node shares (Parquet segments and the catalog); empty for a single node with its own DuckDB file.</summary>
    public string SharedDirectory { get; set; } = "";

    /// <summary>The least time between two segments sealed by one node: longer means fewer, bigger files and later acknowledgements.</summary>
    public TimeSpan SegmentInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Names this node in the catalog.</summary>
    public string NodeName { get; set; } = Environment.MachineName;

    public bool IsClustered => !string.IsNullOrWhiteSpace(SharedDirectory);
}
