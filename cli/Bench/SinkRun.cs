using System.Diagnostics;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Cli.Bench;

/// <summary>
/// Writes the events through <see cref="PostgresEventSink"/> the way grains do: every stream at
/// once, each with one flush in flight, backing off when the sink says it is behind.
/// </summary>
internal static class SinkRun
{
    private const string Headers = """{"user-agent":"ingest-bench","content-type":"application/x-ndjson"}""";

    public static async Task<SinkResult> RunAsync(PostgresDatabase database, BenchEvents events, CancellationToken cancellationToken)
    {
        long backpressure = 0;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        PostgresSinkCounters counters;
        await using (var sink = new PostgresEventSink(database, NullLogger<PostgresEventSink>.Instance))
        {
            await Task.WhenAll(events.Streams.Select(stream => Task.Run(async () =>
            {
                var state = StreamState.Opened(
                    stream.Key, new StreamOpened(StreamTransport.Http, "10.0.0.1", Headers, DateTimeOffset.UtcNow), StorageSinks.Postgres);
                foreach (var batch in stream.Batches)
                {
                    state = state with { Events = state.Events + batch.Count, Bytes = state.Bytes + batch.Bytes };
                    var flush = new StreamFlush(state, [batch]);
                    while (true)
                    {
                        try
                        {
                            await sink.WriteAsync(flush, cancellationToken);
                            break;
                        }
                        catch (StorageBackpressureException e)
                        {
                            Interlocked.Increment(ref backpressure);
                            await Task.Delay(e.RetryAfter, cancellationToken);
                        }
                    }
                }
            }, cancellationToken)));
            watch.Stop();
            counters = sink.Counters;
        }
        return new SinkResult(watch.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu, counters, backpressure);
    }
}
