using System.Diagnostics;
using Ingest.Gateway;
using Ingest.Gateway.Framing;

namespace Ingest.Cli.Bench;

/// <summary>
/// The CPU limit: the gateway's own framer validating the POST run's bodies in memory, from one
/// thread, as the node does before anything is stored.
/// </summary>
internal static class ParseBaseline
{
    public static BenchRun Run(EventCorpus corpus, int streams, int eventsPerRequest)
    {
        var maxEventBytes = new GatewayOptions().MaxEventBytes;
        long events = 0, rejected = 0;
        var watch = Stopwatch.StartNew();
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
        watch.Stop();
        IReadOnlyList<string> errors = rejected == 0 ? [] : [$"the framer rejected {rejected} events"];
        return new BenchRun("parse", "-", "in-process", 1, corpus.Count, events, corpus.Bytes, watch.Elapsed, 0, null, null, errors);
    }
}
