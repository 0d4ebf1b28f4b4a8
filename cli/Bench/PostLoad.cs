using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Ingest.Cli.Bench;

/// <summary>
/// POST load: each stream sends its share of the events as consecutive requests of
/// <c>--post-events</c> lines on its keep-alive connection. A request's answer is its events'
/// acknowledgement, and its latency, from the first byte sent to the count read, is theirs.
/// With <c>streamPrefix</c> each connection names its stream, as a resuming client does, so its
/// requests continue one stream and each answer is the stream's position.
/// </summary>
internal static class PostLoad
{
    private static readonly MediaTypeHeaderValue Ndjson = new("application/x-ndjson");

    public static async Task<LoadOutcome> RunAsync(
        HttpClient http, Uri target, EventCorpus corpus, int streams, int eventsPerRequest, double rate, CancellationToken cancellationToken,
        string? streamPrefix = null)
    {
        var errors = new ConcurrentQueue<string>();
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = new Task<(long Sent, long Acknowledged, long Bytes, List<(long SentAt, long Ticks, int Events)> Latencies)>[streams];
        for (var s = 0; s < streams; s++)
        {
            var stream = s;
            running[s] = Task.Run(async () =>
            {
                await go.Task;
                var name = streamPrefix is null ? null : $"{streamPrefix}-{stream}";
                return await StreamAsync(http, target, corpus, corpus.Share(stream, streams), eventsPerRequest, rate / streams, name, errors, cancellationToken);
            }, cancellationToken);
        }
        var watch = Stopwatch.StartNew();
        var timeline = new LatencyTimeline(Stopwatch.GetTimestamp());
        go.SetResult();
        var results = await Task.WhenAll(running);
        watch.Stop();
        foreach (var (sentAt, latency, events) in results.SelectMany(r => r.Latencies))
            timeline.AddRequest(sentAt, latency, events);
        return new LoadOutcome(
            results.Sum(r => r.Sent),
            results.Sum(r => r.Acknowledged),
            results.Sum(r => r.Bytes),
            watch.Elapsed,
            timeline.Overall(),
            timeline.Seconds(),
            [.. errors]);
    }

    /// <returns>What was sent and counted, and each request's send time, latency (both in <see cref="Stopwatch"/> ticks) and events.</returns>
    private static async Task<(long Sent, long Acknowledged, long Bytes, List<(long SentAt, long Ticks, int Events)> Latencies)> StreamAsync(
        HttpClient http, Uri target, EventCorpus corpus, (int First, int Count) share, int eventsPerRequest, double rate,
        string? name, ConcurrentQueue<string> errors, CancellationToken cancellationToken)
    {
        var pacer = new Pacer(rate);
        var latencies = new List<(long, long, int)>();
        long sent = 0, acknowledged = 0, bytes = 0;
        for (var done = 0; done < share.Count; done += eventsPerRequest)
        {
            var events = Math.Min(eventsPerRequest, share.Count - done);
            await pacer.UntilDueAsync(done, cancellationToken);
            var (offset, length) = corpus.Lines(share.First + done, events);
            using var content = new ByteArrayContent(corpus.Ndjson, offset, length);
            content.Headers.ContentType = Ndjson;
            using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = content };
            if (name is not null)
                request.Headers.Add("X-Stream-Id", name);
            // A named stream answers with its position: everything this connection sent so far.
            var expected = name is null ? events : done + events;
            var begin = Stopwatch.GetTimestamp();
            sent += events;
            bytes += length;
            try
            {
                using var response = await http.SendAsync(request, cancellationToken);
                var answer = await response.Content.ReadAsStringAsync(cancellationToken);
                var latency = Stopwatch.GetTimestamp() - begin;
                var newline = answer.IndexOf('\n', StringComparison.Ordinal);
                if (!long.TryParse(newline < 0 ? answer : answer[..newline], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                    count = 0;
                acknowledged += Math.Clamp(name is null ? count : count - done, 0, events);
                latencies.Add((begin, latency, events));
                if (response.StatusCode != HttpStatusCode.OK || count != expected)
                    BenchErrors.Add(errors, $"POST {target.AbsolutePath} of {events} events answered {(int)response.StatusCode}: {BenchErrors.Shorten(answer)}");
            }
            catch (HttpRequestException exception)
            {
                BenchErrors.Add(errors, $"POST {target.AbsolutePath} of {events} events failed: {exception.Message}");
                break;
            }
        }
        return (sent, acknowledged, bytes, latencies);
    }
}
