using Ingest.Tests.Gateway.Ingest;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Gateway;

/// <summary>A node killed with SIGKILL mid-stream: only unacknowledged events are lost, and resuming clients send exactly those again.</summary>
public sealed class NodeKillTests
{
    [Fact]
    public async Task After_SIGKILL_and_a_restart_resuming_clients_leave_every_event_stored_exactly_once()
    {
        using var directory = new TempDirectory();
        var database = directory.File("ingest.duckdb");
        var clients = Enumerable.Range(1, 4).Select(i => new ResumingClient($"killed-{i}", 20_000)).ToArray();

        await using (var node = await NodeProcess.StartAsync(database))
        {
            var sending = clients.Select(client => client.SendAsync(node.WebSocketAddress)).ToArray();
            while (clients.Any(client => client.Acknowledged < 2000))
                await Task.Delay(10);
            await node.KillAsync();
            Assert.All(await Task.WhenAll(sending), finished => Assert.False(finished));
        }

        await using var restarted = await NodeProcess.StartAsync(database);
        foreach (var client in clients)
            Assert.True(await client.SendAsync(restarted.WebSocketAddress));

        foreach (var client in clients)
            await ResumeTests.AssertStoredOnceInOrderAsync(restarted.Http, client.Stream, 20_000);
    }
}
