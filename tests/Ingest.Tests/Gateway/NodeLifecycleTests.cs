using System.Net.WebSockets;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Gateway;

/// <summary>A node as a process: SIGTERM, restart on the same file, and the file read by another client.</summary>
public sealed class NodeLifecycleTests
{
    [Fact]
    public async Task SIGTERM_mid_stream_loses_nothing_acknowledged_and_a_restart_carries_on_from_the_same_file()
    {
        using var directory = new TempDirectory();
        var database = directory.File("ingest.duckdb");
        var events = Ndjson.Events(200_000);
        var sent = 0;
        IReadOnlyList<long> counts;
        WebSocketCloseStatus? closeStatus;

        await using (var node = await NodeProcess.StartAsync(database))
        {
            await using var client = await WebSocketClient.ConnectAsync(node.WebSocketAddress);
            var sending = Task.Run(async () =>
            {
                try
                {
                    foreach (var e in events)
                    {
                        await client.SendAsync(e);
                        sent++;
                    }
                }
                catch (WebSocketException)
                {
                }
            });
            await client.WaitForCountAsync(1000);

            Assert.Equal(0, await node.TerminateAsync());
            await client.Completion.WaitAsync(TimeSpan.FromSeconds(30));
            await sending;
            counts = client.Counts;
            closeStatus = client.CloseStatus;
        }

        var acknowledged = counts[^1];
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closeStatus);
        Assert.InRange(acknowledged, 1000, sent);

        await using (var restarted = await NodeProcess.StartAsync(database))
        {
            var stored = await restarted.Http.PayloadsAsync();
            Assert.InRange(stored.Count, acknowledged, sent);
            Assert.Equal(events.Take(stored.Count), stored);
            Assert.Equal(stored.Count, await restarted.Http.ScalarAsync("select max(seq) from events"));
            Assert.Equal(stored.Count, await restarted.Http.ScalarAsync("select events from streams"));

            using var more = await restarted.Http.PostAsync("/", new StringContent("{\"after\":\"restart\"}\n"));
            Assert.Equal("1", await more.Content.ReadAsStringAsync());
            Assert.Equal(0, await restarted.TerminateAsync());
        }
    }

    [Fact]
    public async Task After_shutdown_DuckDBs_own_client_reads_exactly_what_was_acknowledged()
    {
        using var directory = new TempDirectory();
        var database = directory.File("ingest.duckdb");
        var events = Ndjson.Events(10_000);
        string answer;
        await using (var node = await TestNode.StartAsync(databasePath: database))
        {
            using var response = await node.Http.PostAsync("/", new ByteArrayContent(Ndjson.Body(events)));
            answer = await response.Content.ReadAsStringAsync();
            await node.StopAsync();
        }

        var rows = await IndependentReader.QueryAsync(database,
            "select seq, payload::varchar as payload, payload->>'level' as level from events order by seq");
        Assert.Equal("10000", answer);
        Assert.Equal(events, rows.Select(r => r.GetProperty("payload").GetString()));
        Assert.Equal(Enumerable.Range(1, 10_000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), rows.Select(r => r.GetProperty("seq").GetString()));
        Assert.Equal("DEBUG", rows[0].GetProperty("level").GetString());
        var streams = await IndependentReader.QueryAsync(database, "select events, transport from streams");
        Assert.Equal("10000", Assert.Single(streams).GetProperty("events").GetString());
    }
}
