using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>
/// A sink does not hold the stream where the write starts. Usually it holds more: another
/// activation, on another node, wrote it meanwhile (the client reconnected elsewhere), or part of
/// a failed write was stored. It holds less when the write followed an earlier one of the stream
/// that failed (<see cref="IEventSink.KeepsStreamOrder"/>). Nothing of the refused write was
/// stored; the grain reloads where the stream stands and sends only what is still missing.
/// </summary>
public sealed class StreamConflictException(StreamKey key, long stored, long expected)
    : InvalidOperationException(stored > expected
        ? $"Stream {key} holds events up to {stored} in storage, past the {expected} this node expected; another node wrote it."
        : $"Stream {key} holds events up to {stored} in storage, short of the {expected} this write follows; an earlier write of it failed.")
{
    public StreamKey Key { get; } = key;

    public long Stored { get; } = stored;

    public long Expected { get; } = expected;
}
