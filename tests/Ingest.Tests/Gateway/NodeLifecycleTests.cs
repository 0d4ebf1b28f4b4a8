using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
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
    public async Task SIGTERM_during_a_POST_answers_with_what_was_stored_and_503()
    {
        using var directory = new TempDirectory();
        var database = directory.File("ingest.duckdb");
        string answer;
        await using (var node = await NodeProcess.StartAsync(database))
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", node.Http.BaseAddress!.Port);
            var stream = client.GetStream();
            var head = $"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
            var body = Ndjson.Body(Ndjson.Events(500));
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"{head}{body.Length:x}\r\n"));
            await stream.WriteAsync(body);
            await stream.WriteAsync("\r\n"u8.ToArray());
            await WaitForStreamAsync(node);

            node.SignalTerminate();
            answer = await ReadResponseAsync(stream);
            client.Close();
            Assert.Equal(0, await node.WaitForExitAsync());
        }

        Assert.StartsWith("HTTP/1.1 503", answer);
        Assert.Contains("Retry-After: 1", answer);
        Assert.Contains("\r\n\r\n500\nserver shutting down", answer);
        var rows = await IndependentReader.QueryAsync(database, "select count(*) as n from events");
        Assert.Equal("500", rows[0].GetProperty("n").GetString());
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

    /// <summary>Reads one HTTP/1.1 response with a Content-Length, as a client would, and leaves.</summary>
    private static async Task<string> ReadResponseAsync(NetworkStream stream)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.NotEqual(0, read);
            received.AddRange(buffer.AsSpan(0, read));
            var text = Encoding.UTF8.GetString(received.ToArray());
            var headersEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headersEnd < 0)
                continue;
            var length = text.Split("\r\n").Single(h => h.StartsWith("Content-Length:", StringComparison.Ordinal))["Content-Length:".Length..];
            if (received.Count >= headersEnd + 4 + int.Parse(length, System.Globalization.CultureInfo.InvariantCulture))
                return text;
        }
    }

    /// <summary>Waits until the node has read the body so far: its stream row appears once opened.</summary>
    private static async Task WaitForStreamAsync(NodeProcess node)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await node.Http.ScalarAsync("select count(*) from events") < 500)
        {
            Assert.True(DateTime.UtcNow < deadline, "the node did not store the first part of the body");
            await Task.Delay(50);
        }
    }
}
