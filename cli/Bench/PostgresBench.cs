using Ingest.Cli.Cluster;
using Ingest.Silo.Storage.Postgres;
using Npgsql;

namespace Ingest.Cli.Bench;

/// <summary>
/// <c>bench postgres</c>: the sink and the psql baseline write the same events into the same
/// table of a fresh database, one after the other, and the report compares them.
/// </summary>
internal static class PostgresBench
{
    public static async Task<int> RunAsync(PostgresBenchSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        PostgresServer? server = null;
        var scratch = Path.Combine(Path.GetTempPath(), $"ingest-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        try
        {
            string serverConnection;
            string serverDescription;
            if (settings.Connection is { } given)
            {
                serverConnection = given;
                serverDescription = "given by --connection";
            }
            else
            {
                output.WriteLine("Starting a throwaway PostgreSQL server (initdb, fsync off)...");
                server = await PostgresServer.StartNewAsync(cancellationToken);
                serverConnection = server.ConnectionString;
                serverDescription = "throwaway, fsync off";
            }

            var database = $"ingest_bench_{DateTime.UtcNow:yyyyMMddHHmmss}";
            var connectionString = await CreateDatabaseAsync(serverConnection, database, cancellationToken);
            try
            {
                output.WriteLine($"Generating {settings.Events:N0} events of ~{settings.EventSize} bytes over {settings.Streams} streams...");
                var events = BenchEvents.Generate(settings.Events, settings.Streams, settings.EventSize, DateTimeOffset.UtcNow);
                var file = await PsqlCopy.WriteFileAsync(events, Path.Combine(scratch, "events.copy"), cancellationToken);

                await using var storage = await PostgresDatabase.OpenAsync(new PostgresOptions { ConnectionString = connectionString }, cancellationToken: cancellationToken);
                var version = await ScalarAsync<string>(storage, "SHOW server_version", cancellationToken);
                // psql's COPY needs the days' partitions, which the sink would otherwise make in its first round.
                foreach (var day in events.Days)
                    await storage.CreatePartitionAsync(day, cancellationToken);

                // Rounds alternate, each into the emptied table, and the best round of each is
                // compared: whichever writes first into a fresh cluster runs slower (new WAL segments
                // are created rather than recycled), whether it is the sink or psql.
                var sinks = new List<SinkResult>();
                var psqls = new List<TimeSpan>();
                for (var round = 1; round <= settings.Rounds; round++)
                {
                    await ResetAsync(storage, cancellationToken);
                    output.WriteLine($"Round {round}: writing through PostgresEventSink...");
                    sinks.Add(await SinkRun.RunAsync(storage, events, cancellationToken));
                    await ExpectRowsAsync(storage, events.Count, "the sink", cancellationToken);

                    await ResetAsync(storage, cancellationToken);
                    output.WriteLine($"Round {round}: writing the same rows with psql \\copy...");
                    psqls.Add(await PsqlCopy.RunAsync(connectionString, file, cancellationToken));
                    await ExpectRowsAsync(storage, events.Count, "psql", cancellationToken);
                }
                var report = new BenchReport(settings, events, $"{storage.Endpoint} (PostgreSQL {version}, {serverDescription})", sinks, psqls);
                report.Write(output);
                return 0;
            }
            finally
            {
                await DropDatabaseAsync(serverConnection, database);
            }
        }
        finally
        {
            if (server is not null)
                await server.DisposeAsync();
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static async Task<string> CreateDatabaseAsync(string serverConnection, string name, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(serverConnection);
        await using var command = dataSource.CreateCommand($"CREATE DATABASE \"{name}\"");
        await command.ExecuteNonQueryAsync(cancellationToken);
        return new NpgsqlConnectionStringBuilder(serverConnection) { Database = name }.ConnectionString;
    }

    private static async Task DropDatabaseAsync(string serverConnection, string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var dataSource = NpgsqlDataSource.Create(serverConnection);
        await using var command = dataSource.CreateCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Empties the table (keeping its partitions) and checkpoints, so the baseline starts as the sink did.</summary>
    private static async Task ResetAsync(PostgresDatabase storage, CancellationToken cancellationToken)
    {
        await using (var truncate = storage.DataSource.CreateCommand("TRUNCATE events, streams"))
            await truncate.ExecuteNonQueryAsync(cancellationToken);
        try
        {
            await using var checkpoint = storage.DataSource.CreateCommand("CHECKPOINT");
            await checkpoint.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException)
        {
            // CHECKPOINT needs superuser or pg_checkpoint; the run is only less even without it.
        }
    }

    private static async Task ExpectRowsAsync(PostgresDatabase storage, long expected, string writer, CancellationToken cancellationToken)
    {
        var rows = await ScalarAsync<long>(storage, "SELECT count(*) FROM events", cancellationToken);
        if (rows != expected)
            throw new InvalidOperationException($"Expected {expected} rows; {writer} stored {rows}.");
    }

    private static async Task<T> ScalarAsync<T>(PostgresDatabase storage, string sql, CancellationToken cancellationToken)
    {
        await using var command = storage.DataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
