using System.Buffers;
using System.Text;
using Ingest.Contracts;
using Ingest.Silo.Storage.Postgres;

namespace Ingest.Cli.Bench;

/// <summary>
/// Wide structured events as services send them: nested trace, HTTP and user fields, values that
/// vary from one event to the next, and a message that brings each to about the size asked for.
/// Generated before anything is timed, the same for the sink and the baseline.
/// </summary>
internal sealed class BenchEvents
{
    private BenchEvents(IReadOnlyList<BenchStream> streams, long payloadBytes)
    {
        Streams = streams;
        PayloadBytes = payloadBytes;
    }

    public IReadOnlyList<BenchStream> Streams { get; }

    public long PayloadBytes { get; }

    public long Count => Streams.Sum(s => s.Events);

    /// <summary>The UTC days the events were received on.</summary>
    public IEnumerable<DateOnly> Days =>
        Streams.SelectMany(s => s.Batches).Select(b => PostgresSchema.DayOf(b.ReceivedAt)).Distinct();

    /// <summary>One of the events, to show what was written.</summary>
    public string Sample => Encoding.UTF8.GetString(Streams[0].Batches[0][0]);

    /// <summary>
    /// Splits <paramref name="events"/> over <paramref name="streams"/> and each stream's share into
    /// flush-sized batches, numbered as a grain numbers them.
    /// </summary>
    public static BenchEvents Generate(int events, int streams, int eventSize, DateTimeOffset receivedAt)
    {
        var generated = new BenchStream[streams];
        Parallel.For(0, streams, s =>
        {
            var share = (events / streams) + (s < events % streams ? 1 : 0);
            generated[s] = GenerateStream(s, share, eventSize, receivedAt);
        });
        return new BenchEvents(generated, generated.Sum(s => s.Bytes));
    }

    private static BenchStream GenerateStream(int index, int events, int eventSize, DateTimeOffset receivedAt)
    {
        var random = new Random(index);
        var key = StreamKey.New();
        var batches = new List<EventBatch>();
        var buffer = new ArrayBufferWriter<byte>(eventSize * 2);
        var seq = 1L;
        var n = 0;
        while (n < events)
        {
            var count = Math.Min(events - n, random.Next(PostgresBenchSettings.MinFlushEvents, PostgresBenchSettings.MaxFlushEvents + 1));
            var payloads = new ArrayBufferWriter<byte>(count * (eventSize + 16));
            var ends = new int[count];
            var at = receivedAt.AddMilliseconds(batches.Count * 50);
            for (var i = 0; i < count; i++)
            {
                buffer.ResetWrittenCount();
                BenchEventWriter.Write(buffer, random, index, n + i, at, eventSize, BenchShape.Wide);
                payloads.Write(buffer.WrittenSpan);
                ends[i] = payloads.WrittenCount;
            }
            batches.Add(new EventBatch(payloads.WrittenSpan.ToArray(), ends, count, 0, at) { FirstSeq = seq });
            seq += count;
            n += count;
        }
        return new BenchStream(key, batches);
    }
}
