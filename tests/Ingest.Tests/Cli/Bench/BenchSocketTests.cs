using Ingest.Cli.Bench;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Cli.Bench;

/// <summary>The bench's own WebSocket client against the real endpoint: what it counts as acknowledged is what the node stored.</summary>
public sealed class BenchSocketTests
{
    [Fact]
    public async Task Pre_built_frames_are_stored_one_event_each_and_every_one_is_acknowledged_with_a_latency()
    {
        await using var node = await TestNode.StartAsync();
        var corpus = EventCorpus.Generate(5000, 200, BenchShape.Wide, DateTimeOffset.UtcNow).BuildFrames();
        using var socket = await BenchSocket.ConnectAsync(node.WebSocketAddress, corpus.Count, CancellationToken.None);

        await socket.SendAsync(corpus.Frames, 0, new Pacer(0), CancellationToken.None);
        await socket.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(corpus.Count, socket.Acknowledged);
        Assert.True(socket.ClosedNormally, $"closed with {socket.CloseStatus} {socket.CloseDescription}");
        Assert.Equal(corpus.Count, socket.Latencies.Length);
        Assert.All(socket.Latencies.ToArray(), latency => Assert.True(latency >= 0));
        var stored = await node.Http.PayloadsAsync();
        Assert.Equal(Enumerable.Range(0, corpus.Count).Select(i => System.Text.Encoding.UTF8.GetString(corpus.Event(i).Span)), stored);
    }

    [Fact]
    public async Task Paced_sending_keeps_to_the_rate()
    {
        await using var node = await TestNode.StartAsync();
        var corpus = EventCorpus.Generate(200, 100, BenchShape.Flat, DateTimeOffset.UtcNow).BuildFrames();
        using var socket = await BenchSocket.ConnectAsync(new Uri(node.WebSocketAddress, "/v1/blackhole"), corpus.Count, CancellationToken.None);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        await socket.SendAsync(corpus.Frames, 0, new Pacer(1000), CancellationToken.None);
        await socket.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        // 200 events at 1000/s: the last is due after 199 ms.
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(190), $"{watch.Elapsed}");
        Assert.Equal(200, socket.Acknowledged);
    }
}
