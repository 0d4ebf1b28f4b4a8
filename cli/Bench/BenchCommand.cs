using System.CommandLine;

namespace Ingest.Cli.Bench;

/// <summary><c>bench</c>: measures a part of the system against a baseline, in one run.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure throughput against a baseline.");
        bench.Subcommands.Add(Postgres());
        bench.Subcommands.Add(NodeBenchCommand.Create());
        return bench;
    }

    private static Command Postgres()
    {
        var connection = new Option<string?>("--connection")
        {
            Description = "Npgsql connection string of a running server (the user needs CREATEDB). Default: a throwaway server started for the run.",
        };
        var events = new Option<int>("--events") { Description = "Events to write.", DefaultValueFactory = _ => 1_000_000 };
        var streams = new Option<int>("--streams") { Description = "Streams writing at once, as grains would.", DefaultValueFactory = _ => 100 };
        var eventSize = new Option<int>("--event-size") { Description = "Approximate bytes of JSON per event.", DefaultValueFactory = _ => 200 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds of both, alternating; the best of each is compared.", DefaultValueFactory = _ => 2 };
        var command = new Command("postgres", "PostgresEventSink against psql \\copy of the same rows into the same table.")
        {
            connection, events, streams, eventSize, rounds,
        };
        command.SetAction(async result =>
        {
            var settings = new PostgresBenchSettings(result.GetValue(connection), result.GetValue(events), result.GetValue(streams), result.GetValue(eventSize), result.GetValue(rounds));
            if (settings.Problem() is { } problem)
            {
                Console.Error.WriteLine(problem);
                return 1;
            }
            using var shutdown = new ShutdownSignal();
            return await PostgresBench.RunAsync(settings, Console.Out, shutdown.Token);
        });
        return command;
    }
}
