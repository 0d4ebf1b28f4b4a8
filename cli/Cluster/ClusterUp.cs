namespace Ingest.Cli.Cluster;

/// <summary><c>cluster up</c>: starts a <see cref="LocalCluster"/>, says where everything is, and stops it on a signal.</summary>
internal static class ClusterUp
{
    public static async Task<int> RunAsync(LocalClusterOptions options, TextWriter output, TextWriter errors, CancellationToken shutdown)
    {
        var directory = Path.GetFullPath(options.DataDirectory);
        output.WriteLine($"Starting {(options.PostgresConnectionString is null ? "PostgreSQL, " : "")}{options.Nodes} node(s) and nginx in {directory} ...");
        LocalCluster cluster;
        try
        {
            cluster = await LocalCluster.StartAsync(options, shutdown);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            output.WriteLine("Stopped while starting; nothing is left running.");
            return 0;
        }
        catch (Exception e)
        {
            errors.WriteLine($"The cluster did not start: {e.Message}");
            return 1;
        }

        Describe(cluster, output);
        try
        {
            await Task.Delay(Timeout.Infinite, shutdown);
        }
        catch (OperationCanceledException)
        {
        }

        output.WriteLine("Stopping: the nodes flush and exit, then nginx and PostgreSQL ...");
        try
        {
            await cluster.StopAsync();
        }
        catch (AggregateException e)
        {
            foreach (var inner in e.InnerExceptions)
                errors.WriteLine(inner.Message);
            return 1;
        }
        output.WriteLine("Stopped.");
        return 0;
    }

    private static void Describe(LocalCluster cluster, TextWriter output)
    {
        var balancer = cluster.Balancer;
        output.WriteLine();
        output.WriteLine($"  balancer   {balancer.Address} (ws:// too)   nginx config {balancer.ConfigFile}, log {balancer.ErrorLog}");
        foreach (var node in cluster.Nodes)
            output.WriteLine($"  node {node.Index,-5} {node.Address}   log {node.LogFile}");
        output.WriteLine(cluster.Postgres is { } postgres
            ? $"  postgres   {cluster.ConnectionString}   data and log {postgres.DataDirectory}"
            : $"  postgres   {cluster.ConnectionString}   (given)");
        output.WriteLine($"  shared     {cluster.SharedDirectory}");
        output.WriteLine();
        output.WriteLine($"Send events to {balancer.Address}. Ctrl+C or SIGTERM stops everything; the data stays in {cluster.DataDirectory}.");
    }
}
