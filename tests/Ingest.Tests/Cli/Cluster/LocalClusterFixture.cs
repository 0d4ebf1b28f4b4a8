using Ingest.Cli.Cluster;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Cli.Cluster;

/// <summary>One three-node cluster on a free balancer port, in a directory of its own, for a whole test class.</summary>
public sealed class LocalClusterFixture : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private LocalCluster? _cluster;

    public LocalCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster has not started.");

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync() =>
        _cluster = await LocalCluster.StartAsync(new LocalClusterOptions { DataDirectory = _directory.Path, BalancerPort = 0 });

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_cluster is not null)
            await _cluster.DisposeAsync();
        _directory.Dispose();
    }
}
