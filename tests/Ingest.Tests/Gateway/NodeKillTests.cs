using Ingest.Tests.Gateway.Ingest;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Gateway;

/// <summary>A node killed with SIGKILL mid-stream: only unacknowledged events are lost, and resuming clients send exactly those again.</summary>
[Collection(PostgresCollection.Name)]
public sealed class NodeKillTests(PostgresFixture postgres)
{
    private const int Events = 20_000;

    // Kept so that a failure can show what the nodes said.
    private static NodeProcess? _killed;
    private static NodeProcess? _restarted;

    [Fact]
    public async Task After_SIGKILL_and_a_restart_resuming_clients_leave_every_event_stored_exactly_once()
    {
        using var directory = new TempDirectory();
        var clients = await KillAndResumeAsync(directory.File("ingest.duckdb"), []);

        await using var node = await NodeProcess.StartAsync(directory.File("ingest.duckdb"));
        await ExplainingFailureAsync(node, clients, async client => await ResumeTests.AssertStoredOnceInOrderAsync(node.Http, client.Stream, Events));
    }

    [Fact]
    public async Task After_SIGKILL_amid_background_checkpoints_every_acknowledged_event_is_stored_exactly_once()
    {
        // A checkpoint every 64 KiB of WAL (every ~100 ms here) runs beside the writer's commits, which
        // DuckDB then logs to a second WAL file: the kill lands during or between such checkpoints,
        // after at least one has finished (on a busy machine the first may come late). At nice 19 or
        // under SCHED_IDLE the checkpointer would get no CPU at all while the tests beside this one
        // keep both cores busy.
        using var directory = new TempDirectory();
        string[] settings = ["--DuckDb:BackgroundCheckpointBytes=65536", "--DuckDb:CheckpointNice=0", "--DuckDb:CheckpointIdle=false", "--Logging:LogLevel:Ingest.Silo.Storage.DuckDb.DuckDbEventSink=Debug"];
        var clients = await KillAndResumeAsync(directory.File("ingest.duckdb"), settings, killAfter: "Checkpointed a WAL");

        await using var node = await NodeProcess.StartAsync(directory.File("ingest.duckdb"), settings);
        await ExplainingFailureAsync(node, clients, async client => await ResumeTests.AssertStoredOnceInOrderAsync(node.Http, client.Stream, Events));
    }

    [Fact]
    public async Task After_SIGKILL_of_a_node_writing_to_both_sinks_each_sink_holds_every_event_exactly_once()
    {
        using var directory = new TempDirectory();
        var connection = await postgres.CreateDatabaseAsync();
        string[] settings = ["--Silo:Sinks=duckdb,postgres", $"--Postgres:ConnectionString={connection}"];
        var clients = await KillAndResumeAsync(directory.File("ingest.duckdb"), settings);

        await using var node = await NodeProcess.StartAsync(directory.File("ingest.duckdb"), settings);
        await ExplainingFailureAsync(node, clients, async client =>
        {
            await ResumeTests.AssertStoredOnceInOrderAsync(node.Http, client.Stream, Events);
            await PostgresReader.AssertStoredOnceInOrderAsync(connection, client.Stream, Events);
        });
    }

    /// <summary>On a failure, prints the streams' rows and what each node process said, then fails.</summary>
    private static async Task ExplainingFailureAsync(NodeProcess node, ResumingClient[] clients, Func<ResumingClient, Task> check)
    {
        try
        {
            foreach (var client in clients)
                await check(client);
        }
        catch (Exception)
        {
            var rows = await node.Http.QueryAsync("select id, events, rejected, duplicates from streams order by id");
            Console.WriteLine($"streams: {string.Join("; ", rows.Select(r => r.ToString()))}");
            foreach (var client in clients)
            {
                var counts = await node.Http.QueryAsync($"select count(*) as n, count(distinct seq) as d, max(seq) as m from events where stream_id = '{client.Stream}'");
                Console.WriteLine($"{client.Stream}: acknowledged {client.Acknowledged}; events {counts[0]}");
                var doubled = await node.Http.QueryAsync($"select seq, received_at from events where stream_id = '{client.Stream}' and seq in (select seq from events where stream_id = '{client.Stream}' group by seq having count(*) > 1) order by seq, received_at");
                if (doubled.Length > 0)
                    Console.WriteLine($"  doubled: {doubled.Length} rows, first {doubled[0]} {doubled[1]}, last {doubled[^2]} {doubled[^1]}");
            }
            foreach (var (name, process) in new[] { ("killed node", _killed), ("restarted node", _restarted) })
                Console.WriteLine($"--- {name} said:\n{string.Join("\n", process?.Output ?? [])}");
            throw;
        }
    }

    /// <summary>
    /// Streams flowing, SIGKILL once every client has 2,000 events acknowledged (and the node has
    /// said <paramref name="killAfter"/>, if given), a new process on the same storage, the clients
    /// resume and finish.
    /// </summary>
    private static async Task<ResumingClient[]> KillAndResumeAsync(string database, string[] settings, string? killAfter = null)
    {
        var clients = Enumerable.Range(1, 4).Select(i => new ResumingClient($"killed-{i}", Events)).ToArray();
        await using (var node = await NodeProcess.StartAsync(database, settings))
        {
            _killed = node;
            var said = killAfter is null ? Task.CompletedTask : node.WhenSaid(killAfter);
            var sending = clients.Select(client => client.SendAsync(node.WebSocketAddress)).ToArray();
            while (clients.Any(client => client.Acknowledged < 2000) || !said.IsCompleted)
            {
                Assert.False(sending.Any(task => task.IsCompleted), $"a client finished before the kill; the node said: {string.Join("\n", node.Output)}");
                await Task.Delay(10);
            }
            Console.WriteLine($"killed at {DateTimeOffset.UtcNow:O}; acknowledged {string.Join(", ", clients.Select(c => c.Acknowledged))}");
            await node.KillAsync();
            // Every connection was cut mid-stream.
            Assert.All(await Task.WhenAll(sending), finished => Assert.False(finished));
        }

        await using (var restarted = await NodeProcess.StartAsync(database, settings))
        {
            _restarted = restarted;
            foreach (var client in clients)
                Assert.True(await client.SendAsync(restarted.WebSocketAddress));
            await restarted.TerminateAsync();
        }
        return clients;
    }
}
