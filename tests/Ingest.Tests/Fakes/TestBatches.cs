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
        var payloads = events.SelectMany(Encoding.UTF8.GetBytes).ToArray();
        var ends = new int[count];
        var end = 0;
        for (var i = 0; i < count; i++)
            ends[i] = end += Encoding.UTF8.GetByteCount(events[i]);
        return new EventBatch(payloads, ends, count, 0, receivedAt) { FirstSeq = setSeq ? from : 0 };
    }

    /// <summary>Every stored event of the flushes as (sequence number, payload).</summary>
    public static List<(long Seq, string Payload)> Events(IEnumerable<StreamFlush> flushes) =>
        [.. flushes.SelectMany(flush => flush.Batches)
            .SelectMany(batch => Enumerable.Range(0, batch.Count).Select(i => (batch.SeqOf(i), Encoding.UTF8.GetString(batch[i]))))];
}
