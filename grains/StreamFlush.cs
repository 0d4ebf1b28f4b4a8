using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>
/// One stream's share of a sink write: its new state and the events that take the sink there.
/// Every batch has its <see cref="EventBatch.FirstSeq"/> set; the events' sequence numbers
/// rise and end at or below <see cref="StreamState.Position"/>. A sink that already holds part
/// of a stream gets only the part it lacks, so a write may carry the state and no events.
/// </summary>
public sealed record StreamFlush(StreamState State, IReadOnlyList<EventBatch> Batches)
{
    /// <summary>
    /// The position the grain believes the sink holds before this write; null when unknown. A sink
    /// shared by several nodes refuses the write with <see cref="StreamConflictException"/> when it
    /// holds more, since the batches would then store events a second time.
    /// </summary>
    public long? SinkPosition { get; init; }

    /// <summary>
    /// True when the grain knows the sink holds the stream's row already, so the sink need only
    /// record the new counts. False (the default) when the row may be missing: the sink then
    /// creates it unless it exists.
    /// </summary>
    public bool SinkHasRow { get; init; }

    /// <summary>
    /// True when a caller waits for this write (a close, a reopen, an explicit flush, a
    /// deactivation), so a sink that holds writes back to commit many streams' together should not
    /// hold this one. False for a flight that a timer or a threshold started.
    /// </summary>
    public bool Awaited { get; init; }

    /// <summary>
    /// True when the write follows another of the stream that is not durable yet (<see
    /// cref="IEventSink.KeepsStreamOrder"/>): <see cref="SinkPosition"/> is where that one leaves
    /// the sink, and if that one failed, this one must be refused rather than stored past a gap.
    /// </summary>
    public bool Follows { get; init; }

    public long EventCount
    {
        get
        {
            long count = 0;
            for (var i = 0; i < Batches.Count; i++)
                count += Batches[i].Count;
            return count;
        }
    }
}
