using System.Text;
using Ingest.Contracts;
using Ingest.Grains;

namespace Ingest.Tests.Fakes;

/// <summary>Batches and flushes built by hand for unit tests of grain logic.</summary>
internal static class TestBatches
{
    /// <summary>A batch of the events <paramref name="from"/> .. <paramref name="from"/> + count - 1, each its number as text.</summary>
    public static EventBatch Numbered(long from, int count, DateTimeOffset receivedAt, bool setSeq = true)
    {
        var events = Enumerable.Range(0, count).Select(i => (from + i).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return Text(receivedAt, events) with { FirstSeq = setSeq ? from : 0 };
    }

    /// <summary>A batch of the events, as a gateway hands it over: not numbered yet.</summary>
    public static EventBatch Text(DateTimeOffset receivedAt, params string[] events)
    {
        var payloads = events.SelectMany(Encoding.UTF8.GetBytes).ToArray();
        var ends = new int[events.Length];
        var end = 0;
        for (var i = 0; i < events.Length; i++)
            ends[i] = end += Encoding.UTF8.GetByteCount(events[i]);
        return new EventBatch(payloads, ends, events.Length, 0, receivedAt);
    }

    /// <summary>The payloads of the flush's events, in order.</summary>
    public static string[] Payloads(StreamFlush flush) =>
        flush.Batches.SelectMany(batch => Enumerable.Range(0, batch.Count).Select(i => Encoding.UTF8.GetString(batch[i]))).ToArray();

    /// <summary>Every stored event of the flushes as (sequence number, payload).</summary>
    public static List<(long Seq, string Payload)> Events(IEnumerable<StreamFlush> flushes) =>
        [.. flushes.SelectMany(flush => flush.Batches)
            .SelectMany(batch => Enumerable.Range(0, batch.Count).Select(i => (batch.SeqOf(i), Encoding.UTF8.GetString(batch[i]))))];
}
