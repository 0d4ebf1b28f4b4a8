using System.Net.WebSockets;
using System.Text;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Grains;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Tests.Fakes;
using Ingest.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.Tests.Gateway.Ingest;

public sealed class WebSocketIngestTests
{
    [Fact]
    public async Task Ten_thousand_events_then_an_empty_binary_message_get_increasing_counts_ending_at_10000()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await WebSocketClient.ConnectAsync(node.WebSocketAddress);
        var events = Ndjson.Events(10_000);

        foreach (var e in events)
            await client.SendAsync(e);
        await client.HangUpAsync();

        Assert.NotEmpty(client.Counts);
        Assert.Equal(10_000, client.Counts[^1]);
        Assert.True(client.Counts.Zip(client.Counts.Skip(1)).All(pair => pair.First < pair.Second), string.Join(",", client.Counts));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.Equal(events, await node.Http.PayloadsAsync());
        var stream = Assert.Single(await node.Http.QueryAsync("select transport, events, closed_at is not null as closed from streams"));
        Assert.Equal("websocket", stream.GetProperty("transport").GetString());
        Assert.Equal(10_000, stream.GetProperty("events").GetInt64());
        Assert.True(stream.GetProperty("closed").GetBoolean());
    }

    [Fact]
    public async Task Counts_arrive_while_the_stream_stays_open_and_count_only_events()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await WebSocketClient.ConnectAsync(node.WebSocketAddress);

        await client.SendAsync("{\"n\":1}");
        await client.SendAsync("{\"n\":2}");
        await client.WaitForCountAsync(2);
        await client.SendAsync("{\"n\":3}");
        await client.WaitForCountAsync(3);
        await client.CloseAsync();

        Assert.Equal(3, client.Counts[^1]);
        Assert.Equal(3, await node.Http.ScalarAsync("select count(*) from events"));
    }

    [Fact]
    public async Task A_stream_whose_grain_went_idle_carries_on_from_its_stored_state()
    {
        await using var node = await TestNode.StartAsync(new Dictionary<string, string?>
        {
            ["Silo:IdleTimeout"] = "00:00:00.200",
            ["Silo:IdleCheckInterval"] = "00:00:00.100",
        });
        var silo = node.Services.GetRequiredService<StreamSilo>();
        await using var client = await WebSocketClient.ConnectAsync(node.WebSocketAddress);

        await client.SendAsync("{\"n\":1}");
        await client.WaitForCountAsync(1);
        await Task.Delay(1000);
        Assert.Equal(0, silo.ActivationCount);
        await client.SendAsync("{\"n\":2}");
        await client.WaitForCountAsync(2);
        await client.HangUpAsync();

        Assert.Equal([1L, 2L], client.Counts);
        var rows = await node.Http.QueryAsync("select seq, payload->>'n' as n from events order by seq");
        Assert.Equal(["1", "2"], rows.Select(r => r.GetProperty("n").GetString()));
        Assert.Equal(2, await node.Http.ScalarAsync("select events from streams"));
    }

    [Fact]
    public async Task Bad_messages_are_counted_and_rejected_while_the_stream_and_its_other_events_carry_on()
    {
        await using var node = await TestNode.StartAsync(new Dictionary<string, string?> { ["Gateway:MaxEventBytes"] = "100" });
        await using var client = await WebSocketClient.ConnectAsync(node.WebSocketAddress);

        await client.SendAsync("{\"n\":1}");
        await client.SendAsync("{\"n\": oops");
        await client.SendBinaryAsync([.. "{\"s\":\""u8, 0xFF, .. "\"}"u8]);
        await client.SendAsync("{\"big\":\"" + new string('x', 500) + "\"}");
        await client.SendBinaryAsync("{\"n\":5}"u8.ToArray());
        await client.HangUpAsync();

        Assert.Equal(2, client.Counts[^1]);
        Assert.Contains("rejected 3", client.CloseDescription);
        Assert.Equal(["{\"n\":1}", "{\"n\":5}"], await node.Http.PayloadsAsync());
        Assert.Equal(3, await node.Http.ScalarAsync("select rejected from streams"));
    }

    [Fact]
    public async Task When_storage_fails_the_stream_closes_with_1011_and_other_streams_carry_on()
    {
        FailingSink? sink = null;
        await using var node = await TestNode.StartAsync(
            new Dictionary<string, string?> { ["Silo:FlushMaxEvents"] = "10" },
            services: services => services.AddKeyedSingleton<IEventSink>(StorageSinks.DuckDb, (provider, _) =>
                sink = new FailingSink(provider.GetRequiredService<DuckDbEventSink>())));
        await using var client = await WebSocketClient.ConnectAsync(node.WebSocketAddress);
        for (var i = 1; i <= 10; i++)
            await client.SendAsync($"{{\"i\":{i}}}");
        await client.WaitForCountAsync(10);

        sink!.Failing = true;
        for (var i = 11; i <= 20; i++)
            await client.SendAsync($"{{\"i\":{i}}}");
        await client.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        sink.Failing = false;

        Assert.Equal(WebSocketCloseStatus.InternalServerError, client.CloseStatus);
        Assert.Contains("storage failed", client.CloseDescription);
        Assert.Equal(10, client.Counts[^1]);
        await using var other = await WebSocketClient.ConnectAsync(node.WebSocketAddress);
        await other.SendAsync("{\"other\":1}");
        await other.HangUpAsync();
        Assert.Equal(1, other.Counts[^1]);
    }

    [Fact]
    public async Task A_message_split_into_frames_is_one_event()
    {
        await using var node = await TestNode.StartAsync();
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(node.WebSocketAddress, CancellationToken.None);

        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"part\":"), WebSocketMessageType.Text, false, CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes("\"two\"}"), WebSocketMessageType.Text, true, CancellationToken.None);
        await socket.SendAsync(Array.Empty<byte>(), WebSocketMessageType.Binary, true, CancellationToken.None);
        var buffer = new byte[64];
        while ((await socket.ReceiveAsync(buffer, CancellationToken.None)).MessageType != WebSocketMessageType.Close)
        {
        }

        Assert.Equal(["{\"part\":\"two\"}"], await node.Http.PayloadsAsync());
    }

    [Fact]
    public async Task Many_streams_at_once_each_keep_their_own_events_in_order()
    {
        await using var node = await TestNode.StartAsync();
        var clients = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => WebSocketClient.ConnectAsync(node.WebSocketAddress)));

        await Task.WhenAll(clients.Select(async (client, c) =>
        {
            for (var i = 1; i <= 500; i++)
                await client.SendAsync($"{{\"client\":{c},\"i\":{i}}}");
            await client.HangUpAsync();
        }));

        Assert.All(clients, client => Assert.Equal(500, client.Counts[^1]));
        var streams = await node.Http.QueryAsync(
            "select count(distinct stream_id) as streams, count(*) as events, bool_and(payload->>'i' = seq::varchar) as ordered from events");
        Assert.Equal(20, streams[0].GetProperty("streams").GetInt64());
        Assert.Equal(10_000, streams[0].GetProperty("events").GetInt64());
        Assert.True(streams[0].GetProperty("ordered").GetBoolean());
        // Flushes of concurrent streams share commits rather than taking one each.
        var sink = node.Services.GetRequiredService<DuckDbEventSink>().Counters;
        Assert.True(sink.StreamsWritten > sink.Commits, $"{sink.StreamsWritten} stream rows in {sink.Commits} commits");
        foreach (var client in clients)
            await client.DisposeAsync();
    }
}
