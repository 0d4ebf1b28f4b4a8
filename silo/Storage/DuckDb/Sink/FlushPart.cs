using Ingest.Grains;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// Events <see cref="From"/> to <see cref="To"/> (counted over the flush's batches, end exclusive)
/// of one queued flush, which one commit stores, and the state its stream reaches once they are
/// stored. Most parts are a whole flush; the sink cuts one at the end of a commit of whole row
/// groups (<see cref="CommitPlan"/>).
/// </summary>
internal readonly record struct FlushPart(PendingFlush Pending, long From, long To, StreamState State)
{
    /// <summary>Whether the commit that stores this part stores the last of its flush.</summary>
    public bool Completes => To == Pending.Events;

    /// <summary>
    /// The next part of <paramref name="pending"/>, from where earlier commits left it
    /// (<see cref="PendingFlush.Stored"/>), of at most <paramref name="events"/> events.
    /// </summary>
    public static FlushPart Next(PendingFlush pending, long events)
    {
        var flush = pending.Flush;
        var from = pending.Stored;
        var to = from + Math.Min(events, pending.Unstored);
        return new(pending, from, to, to == pending.Events ? flush.State : StateThrough(flush, to));
    }

    /// <summary>
    /// The state of the stream once the first <paramref name="events"/> events of
    /// <paramref name="flush"/> are stored and the rest are not: its counts less the events left,
    /// and its position just before the first of them, so that a stream resumed from it is sent
    /// exactly those again. Events the grain refused in between count as settled up to that position.
    /// Not closed, as events are still to come.
    /// </summary>
    /// <param name="events">From 0 to less than the flush's events.</param>
    public static StreamState StateThrough(StreamFlush flush, long events)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(events);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(events, flush.EventCount);
        long seen = 0;
        long leftBytes = 0;
        long firstLeftSeq = 0;
        foreach (var batch in flush.Batches)
        {
            if (seen + batch.Count <= events)
            {
                seen += batch.Count;
                continue;
            }
            var first = (int)Math.Max(0, events - seen);
            if (firstLeftSeq == 0)
                firstLeftSeq = batch.SeqOf(first);
            leftBytes += batch.Bytes - batch.Start(first);
            seen += batch.Count;
        }
        var state = flush.State;
        var stored = state.Events - (flush.EventCount - events);
        var position = firstLeftSeq - 1;
        return state with
        {
            Events = stored,
            Bytes = state.Bytes - leftBytes,
            Rejected = position - stored,
            ClosedAt = null,
        };
    }
}
