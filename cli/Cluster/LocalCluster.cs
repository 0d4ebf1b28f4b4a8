using System.Collections.Concurrent;
using System.Globalization;

namespace Ingest.Cli.Cluster;

/// <summary>
/// The cluster's topology on loopback, without Docker: PostgreSQL, gateway nodes each co-hosting
/// its silo, nginx in front of them on one port, and a shared analytics directory. The nodes and
/// nginx are child processes; PostgreSQL is a daemon of <c>pg_ctl</c>'s. Data, configs and logs
/// are all under <see cref="DataDirectory"/> and survive a stop, so a cluster started again on the
/// same directory carries on where it was.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    /// <summary>The database the nodes write to, created in a PostgreSQL server the cluster starts.</summary>
    public const string Database = "ingest";

    private readonly List<ClusterNode> _nodes = [];
    private readonly Lock _lock = new();
    private NginxBalancer? _balancer;
    private Task? _stopping;

    private LocalCluster(string dataDirectory) => DataDirectory = dataDirectory;

    public string DataDirectory { get; }

    /// <summary>The analytics directory every node shares (<c>Analytics:SharedDirectory</c>).</summary>
    public string SharedDirectory => Path.Combine(DataDirectory, "shared");

    /// <summary>The nodes' PostgreSQL database.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The server the cluster started; null when it was given one.</summary>
    public PostgresServer? Postgres { get; private set; }

    public NginxBalancer Balancer => _balancer ?? throw new InvalidOperationException("The balancer has not started.");

    /// <summary>Where clients send events: <c>http://127.0.0.1:&lt;port&gt;/</c> (and <c>ws://</c> on the same port).</summary>
    public Uri BalancerAddress => Balancer.Address;

    public IReadOnlyList<ClusterNode> Nodes => _nodes;

    /// <summary>Starts PostgreSQL, then the nodes, then the balancer, each once the one before answers.</summary>
    /// <exception cref="ArgumentException">The options are unusable (<see cref="LocalClusterOptions.Problem"/>).</exception>
    /// <exception cref="InvalidOperationException">Something did not start; what had started is stopped again.</exception>
    public static async Task<LocalCluster> StartAsync(LocalClusterOptions options, CancellationToken cancellationToken = default)
    {
        if (options.Problem() is { } problem)
            throw new ArgumentException(problem, nameof(options));
        var cluster = new LocalCluster(Path.GetFullPath(options.DataDirectory));
        try
        {
            await cluster.StartCoreAsync(options, cancellationToken);
            return cluster;
        }
        catch
        {
            try
            {
                await cluster.StopAsync();
            }
            catch (AggregateException)
            {
                // The reason it did not start matters more.
            }
            throw;
        }
    }

    /// <summary>
    /// SIGTERM to every node and waits for each to flush and exit, then stops nginx and PostgreSQL.
    /// Once stopped, nothing of the cluster runs or listens. Calling it again does nothing more.
    /// </summary>
    /// <exception cref="AggregateException">A part did not stop cleanly (it was killed); the rest were still stopped.</exception>
    public Task StopAsync()
    {
        lock (_lock)
            return _stopping ??= StopCoreAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task StartCoreAsync(LocalClusterOptions options, CancellationToken cancellationToken)
    {
        // nginx would retry the bind for seconds before saying so, after everything else started.
        if (options.BalancerPort != 0 && LoopbackPort.IsListening(options.BalancerPort))
            throw new InvalidOperationException($"Port {options.BalancerPort} is in use (another cluster?): stop it or choose another port.");
        Directory.CreateDirectory(SharedDirectory);

        if (options.PostgresConnectionString is { } given)
        {
            ConnectionString = given;
        }
        else
        {
            Postgres = await PostgresServer.OpenAsync(Path.Combine(DataDirectory, "postgres"), cancellationToken: cancellationToken);
            ConnectionString = await Postgres.EnsureDatabaseAsync(Database, cancellationToken);
        }

        var ports = LoopbackPort.Free(options.Nodes + 1);
        var gateway = Path.GetFullPath(options.GatewayPath);
        for (var i = 0; i < options.Nodes; i++)
        {
            var directory = Path.Combine(DataDirectory, "nodes", i.ToString(CultureInfo.InvariantCulture));
            _nodes.Add(new ClusterNode(i, ports[i], directory, gateway,
            [
                "--Silo:Sinks=duckdb,postgres",
                $"--Postgres:ConnectionString={ConnectionString}",
                $"--Analytics:SharedDirectory={SharedDirectory}",
                $"--DuckDb:Path={Path.Combine(directory, "ingest.duckdb")}",
                .. options.NodeSettings,
            ]));
        }
        await Task.WhenAll(_nodes.Select(node => node.StartAsync(cancellationToken)));

        var balancerPort = options.BalancerPort == 0 ? ports[^1] : options.BalancerPort;
        _balancer = await NginxBalancer.StartAsync(Path.Combine(DataDirectory, "balancer"), balancerPort, _nodes.Select(n => n.Port), cancellationToken);
    }

    private async Task StopCoreAsync()
    {
        var errors = new ConcurrentQueue<Exception>();
        await Task.WhenAll(_nodes.Select(node => CollectAsync(node.StopAsync, errors)));
        if (_balancer is { } balancer)
            await CollectAsync(balancer.StopAsync, errors);
        if (Postgres is { } postgres)
        {
            await CollectAsync(() => postgres.StopAsync(), errors);
            await postgres.DisposeAsync();
        }
        if (!errors.IsEmpty)
            throw new AggregateException("The cluster did not stop cleanly.", errors);
    }

    private static async Task CollectAsync(Func<Task> stop, ConcurrentQueue<Exception> errors)
    {
        try
        {
            await stop();
        }
        catch (Exception e)
        {
            errors.Enqueue(e);
        }
    }
}
