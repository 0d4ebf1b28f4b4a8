using Ingest.Tests.Gateway.Ingest;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Gateway;

/// <summary>A node killed with SIGKILL mid-stream: only unacknowledged events are lost, and resuming clients send exactly those again.</summary>
[Collection(PostgresCollection.Name)]
public sealed class NodeKillTests(PostgresFixture postgres)
{
    private const int Events = 20_000;

    [Fact]
    public async Task After_SIGKILL_and_a_restart_resuming_clients_leave_every_event_stored_exactly_once()
    {
        using var directory = new TempDirectory();
        var clients = await KillAndResumeAsync(directory.File("ingest.duckdb"));

        await using var node = await NodeProcess.StartAsync(directory.File("ingest.duckdb"));
        foreach (var client in clients)
            await ResumeTests.AssertStoredOnceInOrderAsync(node.Http, client.Stream, Events);
    }

    [Fact]
    public async Task After_SIGKILL_of_a_node_writing_to_both_sinks_each_sink_holds_every_event_exactly_once()
    {
        using var directory = new TempDirectory();
        var connection = await postgres.CreateDatabaseAsync();
        string[] settings = ["--Silo:Sinks=duckdb,postgres", $"--Postgres:ConnectionString={connection}"];
        var clients = await KillAndResumeAsync(directory.File("ingest.duckdb"), settings);

        await using var node = await NodeProcess.StartAsync(directory.File("ingest.duckdb"), settings);
        foreach (var client in clients)
        {
            await ResumeTests.AssertStoredOnceInOrderAsync(node.Http, client.Stream, Events);
            await PostgresReader.AssertStoredOnceInOrderAsync(connection, client.Stream, Events);
        }
    }

    /// <summary>Streams flowing, SIGKILL, a new process on the same storage, the clients resume and finish.</summary>
    private static async Task<ResumingClient[]> KillAndResumeAsync(string database, params string[] settings)
    {
        var clients = Enumerable.Range(1, 4).Select(i => new ResumingClient($"killed-{i}", Events)).ToArray();
        await using (var node = await NodeProcess.StartAsync(database, settings))
        {
            var sending = clients.Select(client => client.SendAsync(node.WebSocketAddress)).ToArray();
            while (clients.Any(client => client.Acknowledged < 2000))
                await Task.Delay(10);
            await node.KillAsync();
            // Every connection was cut mid-stream.
            Assert.All(await Task.WhenAll(sending), finished => Assert.False(finished));
        }

        await using (var restarted = await NodeProcess.StartAsync(database, settings))
        {
            foreach (var client in clients)
                Assert.True(await client.SendAsync(restarted.WebSocketAddress));
            await restarted.TerminateAsync();
        }
        return clients;
    }
}
