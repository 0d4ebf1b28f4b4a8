using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>Cuts a numbered batch down to the entries after a sequence number.</summary>
internal static class EventBatchSlicing
{
    /// <summary>The part of <paramref name="batch"/> past <paramref name="position"/>; null if nothing is.</summary>
    public static EventBatch? After(this EventBatch batch, long position)
    {
        var skip = position + 1 - batch.FirstSeq;
        if (skip <= 0)
            return batch;
        if (skip >= batch.Entries)
            return null;

        var first = 0;
        while (first < batch.Count && batch.SeqOf(first) <= position)
            first++;
        var count = batch.Count - first;
        var start = batch.Start(first);
        var payloads = batch.Payloads.AsSpan(start, batch.Bytes - start).ToArray();
        var ends = new int[count];
        int[]? offsets = batch.Offsets is null ? null : new int[count];
        for (var i = 0; i < count; i++)
        {
            ends[i] = batch.Ends[first + i] - start;
            if (offsets is not null)
                offsets[i] = batch.Offsets![first + i] - (int)skip;
        }
        var entries = batch.Entries - (int)skip;
        return new EventBatch(payloads, ends, count, entries - count, batch.ReceivedAt)
        {
            FirstSeq = position + 1,
            Offsets = offsets,
        };
    }

    /// <summary>The events of <paramref name="batch"/> at or before <paramref name="position"/>.</summary>
    public static int EventsThrough(this EventBatch batch, long position)
    {
        var events = 0;
        while (events < batch.Count && batch.SeqOf(events) <= position)
            events++;
        return events;
    }
}
