namespace Ingest.Cli.Cluster;

/// <summary>What a <see cref="LocalCluster"/> runs, and where.</summary>
public sealed class LocalClusterOptions
{
    /// <summary>Gateway nodes behind the balancer, each co-hosting its silo.</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>Where everything is kept: <c>postgres/</c>, <c>nodes/&lt;i&gt;/</c>, <c>balancer/</c>, <c>shared/</c>.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Where the balancer listens on 127.0.0.1; 0 picks a free port.</summary>
    public int BalancerPort { get; init; } = 4318;

    /// <summary>More settings for every node, as <c>--Key=Value</c>; they win over the cluster's own.</summary>
    public IReadOnlyList<string> NodeSettings { get; init; } = [];

    /// <summary>A running PostgreSQL server's database to use; null starts one with its data in <c>postgres/</c>.</summary>
    public string? PostgresConnectionString { get; init; }

    /// <summary>The node program; by default the one built beside this assembly.</summary>
    public string GatewayPath { get; init; } = Path.Combine(AppContext.BaseDirectory, "Ingest.Gateway.dll");

    /// <summary>What makes these options unusable, if anything.</summary>
    public string? Problem() =>
        Nodes is < 1 or > 32 ? "The cluster needs between 1 and 32 nodes."
        : BalancerPort is < 0 or > 65535 ? "The balancer port must be between 1 and 65535, or 0 for a free one."
        : string.IsNullOrWhiteSpace(DataDirectory) ? "The cluster needs a data directory."
        : !File.Exists(GatewayPath) ? $"The node program {GatewayPath} does not exist: build the gateway (dotnet build gateway)."
        : NodeSettings.FirstOrDefault(s => !s.StartsWith("--", StringComparison.Ordinal) || !s.Contains('=', StringComparison.Ordinal)) is { } setting
            ? $"Node setting '{setting}' is not of the form --Key=Value."
        : null;
}
