namespace Ingest.Cli.Cluster;

/// <summary>
/// One gateway node of a <see cref="LocalCluster"/> (co-hosting its silo), as its own
/// <c>dotnet Ingest.Gateway.dll</c> process. It keeps its port across restarts, so the balancer
/// needs no reload.
/// </summary>
public sealed class ClusterNode
{
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The runtime's settings for a node that only the environment can carry, as in deploy/Dockerfile
    /// and deploy/ingest-node.service. Without a call-counting delay the JIT moves hot code to its
    /// optimised tier within the first second of load: by default it put that off while anything new
    /// was still being compiled, and a node started for a benchmark was still compiling in its measured
    /// runs, its compiler thread taking up to a core at a time (BENCHMARKS.md, seventh session).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> NodeEnvironment = new Dictionary<string, string>
    {
        ["DOTNET_TC_CallCountingDelayMs"] = "0",
    };

    private readonly string _gatewayPath;
    private readonly IReadOnlyList<string> _settings;
    private LoggedProcess? _process;

    internal ClusterNode(int index, int port, string directory, string gatewayPath, IReadOnlyList<string> settings)
    {
        Index = index;
        Port = port;
        Directory = directory;
        _gatewayPath = gatewayPath;
        _settings = settings;
    }

    /// <summary>Its place in <see cref="LocalCluster.Nodes"/>, from 0; its directory is <c>nodes/&lt;index&gt;</c>.</summary>
    public int Index { get; }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    /// <summary>Its working directory, where its DuckDB file and log are.</summary>
    public string Directory { get; }

    /// <summary>Its stdout and stderr, appended across restarts.</summary>
    public string LogFile => Path.Combine(Directory, "node.log");

    /// <summary>The process's id while it runs (and after, until it is started again); null before the first start.</summary>
    public int? ProcessId => _process?.Id;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the node (again) on its port and waits until it answers <c>/healthz</c>.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
            throw new InvalidOperationException($"Node {Index} is already running.");
        _process?.Dispose();
        System.IO.Directory.CreateDirectory(Directory);
        _process = LoggedProcess.Start("dotnet", [_gatewayPath, $"--urls=http://127.0.0.1:{Port}", .. _settings], Directory, LogFile, NodeEnvironment);
        try
        {
            await HealthProbe.WaitAsync(Address, _process, $"Node {Index}", cancellationToken);
        }
        catch
        {
            await KillAsync();
            throw;
        }
    }

    /// <summary>SIGTERM, as systemd or Docker would send: the node flushes every stream, acknowledges and exits.</summary>
    /// <exception cref="TimeoutException">It was still running after <see cref="StopTimeout"/>, and was killed.</exception>
    public async Task StopAsync()
    {
        if (_process is not { } process)
            return;
        process.Terminate();
        if (!await process.WaitForExitAsync(StopTimeout))
        {
            await KillAsync();
            throw new TimeoutException($"Node {Index} did not stop within {StopTimeout.TotalSeconds:F0} s of SIGTERM and was killed; see {LogFile}.");
        }
    }

    /// <summary>SIGKILL: the node gets no chance to flush; waits until it is gone.</summary>
    public async Task KillAsync()
    {
        if (_process is not { } process)
            return;
        process.Kill();
        await process.WaitForExitAsync(Timeout.InfiniteTimeSpan);
    }
}
