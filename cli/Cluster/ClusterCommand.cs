using System.CommandLine;

namespace Ingest.Cli.Cluster;

/// <summary><c>cluster</c>: the cluster's topology on this machine, without Docker.</summary>
internal static class ClusterCommand
{
    public static Command Create()
    {
        var cluster = new Command("cluster", "Run the whole cluster on this machine, on loopback, without Docker.");
        cluster.Subcommands.Add(Up());
        return cluster;
    }

    private static Command Up()
    {
        var nodes = new Option<int>("--nodes") { Description = "Gateway nodes behind the balancer.", DefaultValueFactory = _ => 3 };
        var port = new Option<int>("--port") { Description = "The balancer's port on 127.0.0.1 (0: a free one).", DefaultValueFactory = _ => 4318 };
        var data = new Option<string>("--data")
        {
            Description = "Where data, configs and logs are kept; the next run on it carries on with the same data.",
            DefaultValueFactory = _ => "cluster-data",
        };
        var postgres = new Option<string?>("--postgres")
        {
            Description = "Npgsql connection string of an existing database to use. Default: a PostgreSQL server started in <data>/postgres.",
        };
        var command = new Command("up", "Start PostgreSQL, the nodes and an nginx balancer; run until Ctrl+C or SIGTERM, then stop them all.")
        {
            nodes, port, data, postgres,
        };
        command.SetAction(async result =>
        {
            var options = new LocalClusterOptions
            {
                Nodes = result.GetValue(nodes),
                BalancerPort = result.GetValue(port),
                DataDirectory = result.GetValue(data)!,
                PostgresConnectionString = result.GetValue(postgres),
            };
            if (options.Problem() is { } problem)
            {
                Console.Error.WriteLine(problem);
                return 1;
            }
            using var shutdown = new ShutdownSignal();
            return await ClusterUp.RunAsync(options, Console.Out, Console.Error, shutdown.Token);
        });
        return command;
    }
}
