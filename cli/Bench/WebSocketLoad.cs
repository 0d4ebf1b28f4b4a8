using System.Collections.Concurrent;
using System.Diagnostics;

namespace Ingest.Cli.Bench;

/// <summary>
/// WebSocket load: every stream connects first, then all send their share at once, one message
/// per event, and hang up; the run ends when the last final count is in.
/// </summary>
internal static class WebSocketLoad
{
    /// <summary>Connections opened at once; beyond Kestrel's backlog, connects would be refused.</summary>
    public const int ConnectConcurrency = 200;

    public static readonly TimeSpan FinalCountTimeout = TimeSpan.FromMinutes(2);

    public static async Task<LoadOutcome> RunAsync(
        Uri target, EventCorpus corpus, int streams, double rate, CancellationToken cancellationToken)
    {
        var errors = new ConcurrentQueue<string>();
        var frames = corpus.Frames;
        var sockets = new BenchSocket[streams];
        try
        {
            await Parallel.ForAsync(0, streams, new ParallelOptions { MaxDegreeOfParallelism = ConnectConcurrency, CancellationToken = cancellationToken },
                async (s, token) => sockets[s] = await BenchSocket.ConnectAsync(target, corpus.Share(s, streams).Count, token));

            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var running = new Task[streams];
            for (var s = 0; s < streams; s++)
            {
                var socket = sockets[s];
                var first = corpus.Share(s, streams).First;
                running[s] = Task.Run(async () =>
                {
                    await go.Task;
                    try
                    {
                        await socket.SendAsync(frames, first, new Pacer(rate / streams), cancellationToken);
                    }
                    catch (IOException exception)
                    {
                        BenchErrors.Add(errors, $"WebSocket {target.AbsolutePath}: sending failed after {socket.Acknowledged} acknowledged: {exception.Message}");
                    }
                    await socket.Completion.WaitAsync(FinalCountTimeout, cancellationToken);
                }, cancellationToken);
            }
            var watch = Stopwatch.StartNew();
            var timeline = new LatencyTimeline(Stopwatch.GetTimestamp());
            go.SetResult();
            try
            {
                await Task.WhenAll(running);
            }
            catch (Exception exception) when (exception is TimeoutException or InvalidDataException or IOException)
            {
                BenchErrors.Add(errors, $"WebSocket {target.AbsolutePath}: {exception.Message}");
            }
            watch.Stop();

            long acknowledged = 0;
            for (var s = 0; s < streams; s++)
            {
                var socket = sockets[s];
                var expected = corpus.Share(s, streams).Count;
                acknowledged += Math.Min(socket.Acknowledged, expected);
                var sentAt = socket.SentAt;
                var latency = socket.Latencies;
                for (var e = 0; e < latency.Length; e++)
                    timeline.AddEvent(sentAt[e], latency[e]);
                if (socket.Acknowledged != expected || !socket.ClosedNormally)
                {
                    BenchErrors.Add(errors, $"WebSocket {target.AbsolutePath} stream {s}: {socket.Acknowledged} of {expected} events acknowledged; " +
                        $"closed {(socket.CloseStatus is { } status ? $"with {status}" : "without a close frame")} {socket.CloseDescription}");
                }
            }
            return new LoadOutcome(corpus.Count, acknowledged, corpus.Bytes, watch.Elapsed, timeline.Overall(), timeline.Seconds(), [.. errors]);
        }
        finally
        {
            foreach (var socket in sockets)
                socket?.Dispose();
        }
    }
}
