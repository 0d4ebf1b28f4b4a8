using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace Ingest.Cli.Bench;

/// <summary>
/// Idle streams: opens many WebSockets that send nothing, measures the node's resident memory once
/// all are open, then hangs every one up and checks that the node closes each normally.
/// </summary>
internal static class IdleLoad
{
    /// <summary>Time for the node's memory to settle after the last connection, before it is measured.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);

    public static async Task<IdleResult> RunAsync(Uri target, int streams, NodeSampler sampler, CancellationToken cancellationToken)
    {
        var errors = new ConcurrentQueue<string>();
        var sockets = new BenchSocket?[streams];
        var before = await sampler.SampleAsync(cancellationToken);
        var run = await sampler.StartAsync(cancellationToken);
        var stopped = false;
        try
        {
            var watch = Stopwatch.StartNew();
            await Parallel.ForAsync(0, streams, Concurrency(cancellationToken), async (s, token) =>
            {
                try
                {
                    sockets[s] = await BenchSocket.ConnectAsync(target, events: 0, token);
                }
                catch (Exception exception) when (exception is WebSocketException or IOException or SocketException)
                {
                    BenchErrors.Add(errors, $"idle WebSocket {s} did not open: {exception.Message}");
                }
            });
            var openTime = watch.Elapsed;
            await Task.Delay(Settle, cancellationToken);
            var held = await sampler.SampleAsync(cancellationToken);

            await Parallel.ForEachAsync(sockets.OfType<BenchSocket>(), Concurrency(cancellationToken), async (socket, token) =>
            {
                try
                {
                    await socket.HangUpAsync(token);
                    await socket.Completion.WaitAsync(WebSocketLoad.FinalCountTimeout, token);
                }
                catch (Exception exception) when (exception is IOException or TimeoutException)
                {
                    BenchErrors.Add(errors, $"idle WebSocket did not close: {exception.Message}");
                }
            });
            var usage = await run.StopAsync(cancellationToken);
            stopped = true;
            return new IdleResult(
                streams, sockets.Count(s => s is not null), sockets.Count(s => s is { ClosedNormally: true, Acknowledged: 0 }), openTime,
                before?.RssBytes, held?.RssBytes, usage, [.. errors]);
        }
        finally
        {
            if (!stopped)
                await run.StopAsync(CancellationToken.None);
            foreach (var socket in sockets)
                socket?.Dispose();
        }
    }

    private static ParallelOptions Concurrency(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = WebSocketLoad.ConnectConcurrency, CancellationToken = cancellationToken };
}
