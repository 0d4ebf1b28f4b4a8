using System.Diagnostics;
using Ingest.Gateway;
using Ingest.Gateway.Framing;

namespace Ingest.Cli.Bench;

/// <summary>
/// The CPU limit: the gateway's own framer validating the POST run's bodies in memory, from one
/// thread, as the node does before anything is stored. Only a second pass is timed, once the
/// framer's code is optimised, as the node's is by the time it is measured.
/// </summary>
internal static class ParseBaseline
{
    /// <param name="warmUpPause">
    /// The pause after the untimed pass: tiered compilation optimises a method in the background, a
    /// little after the calls that ask for it, as the node's warm-up waits for too.
    /// </param>
    public static BenchRun Run(EventCorpus corpus, int streams, int eventsPerRequest, TimeSpan warmUpPause)
    {
        var maxEventBytes = new GatewayOptions().MaxEventBytes;
        // Measured cold, the framer ran its first, unoptimised code for most of the pass, and the
        // figure (2.1-2.7 M events/s) was under half of what the warmed-up framer does.
        Frame(corpus, streams, eventsPerRequest, maxEventBytes);
        Thread.Sleep(warmUpPause);
        var watch = Stopwatch.StartNew();
        var (events, rejected) = Frame(corpus, streams, eventsPerRequest, maxEventBytes);
        watch.Stop();
        IReadOnlyList<string> errors = rejected == 0 ? [] : [$"the framer rejected {rejected} events"];
        return new BenchRun("parse", "-", "in-process", 1, corpus.Count, events, corpus.Bytes, watch.Elapsed, 0, null, null, errors);
    }

    private static (long Events, long Rejected) Frame(EventCorpus corpus, int streams, int eventsPerRequest, int maxEventBytes)
    {
        long events = 0, rejected = 0;
        for (var s = 0; s < streams; s++)
        {
            var (first, count) = corpus.Share(s, streams);
            for (var done = 0; done < count; done += eventsPerRequest)
            {
                var (offset, length) = corpus.Lines(first + done, Math.Min(eventsPerRequest, count - done));
                var body = corpus.Ndjson.AsSpan(offset, length);
                var framer = new JsonEventFramer(maxEventBytes);
                while (true)
                {
                    var frame = framer.Next(body, isFinalBlock: true);
                    if (frame.Kind == FrameKind.Event)
                        events++;
                    else if (frame.Kind == FrameKind.Rejected)
                        rejected++;
                    body = body[frame.Consumed..];
                    if (frame.Kind is FrameKind.End or FrameKind.NeedMoreData)
                        break;
                }
            }
        }
        return (events, rejected);
    }
}
