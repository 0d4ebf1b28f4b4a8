using Ingest.Cli.Cluster;

namespace Ingest.Cli.Bench;

/// <summary>
/// The node <c>bench node</c> measures when given no <c>--url</c>: one gateway process from this
/// tool's output, writing to DuckDB only, in a temporary directory that goes when it stops.
/// </summary>
internal sealed class ThrowawayNode : IAsyncDisposable
{
    private readonly ClusterNode _node;

    private ThrowawayNode(ClusterNode node) => _node = node;

    public Uri Address => _node.Address;

    public int? ProcessId => _node.ProcessId;

    public bool IsRunning => _node.IsRunning;

    public string LogFile => _node.LogFile;

    /// <param name="settings">More node settings, as <c>--Key=Value</c>.</param>
    public static async Task<ThrowawayNode> StartAsync(IEnumerable<string> settings, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"ingest-bench-node-{Guid.NewGuid():N}");
        var gateway = Path.Combine(AppContext.BaseDirectory, "Ingest.Gateway.dll");
        if (!File.Exists(gateway))
            throw new InvalidOperationException($"The node program {gateway} does not exist: build the gateway (dotnet build gateway).");
        var node = new ClusterNode(0, LoopbackPort.Free(), directory, gateway,
        [
            "--Silo:Sinks=duckdb",
            $"--DuckDb:Path={Path.Combine(directory, "ingest.duckdb")}",
            "--Gateway:Blackhole=true",
            // Per-stream information lines would cost the node time the bench counts.
            "--Logging:LogLevel:Default=Warning",
            .. settings,
        ]);
        try
        {
            await node.StartAsync(cancellationToken);
        }
        catch
        {
            Delete(directory);
            throw;
        }
        return new ThrowawayNode(node);
    }

    /// <summary>Stops the node (SIGTERM) and starts a fresh process on the same port and data.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        await _node.StopAsync();
        await _node.StartAsync(cancellationToken);
    }

    /// <summary>The last lines of its log, to say why it failed.</summary>
    public string Tail(int lines = 20)
    {
        try
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Max(0, stream.Length - 16384), SeekOrigin.Begin);
            return string.Join('\n', new StreamReader(stream).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _node.StopAsync();
        }
        finally
        {
            Delete(_node.Directory);
        }
    }

    private static void Delete(string directory)
    {
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }
}
