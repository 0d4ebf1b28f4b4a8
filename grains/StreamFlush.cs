namespace Ingest.Grains;

/// <summary>
/// One stream's share of a sink write: its new state and the events that take it there.
/// The events get sequence numbers <see cref="FirstSeq"/>, <see cref="FirstSeq"/> + 1, ...
/// up to <see cref="StreamState.Events"/>.
/// </summary>
public sealed record StreamFlush(StreamState State, long FirstSeq, IReadOnlyList<Contracts.EventBatch> Batches)
{
    public long EventCount => State.Events - FirstSeq + 1;
}
