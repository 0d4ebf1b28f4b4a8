using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>
/// A sink holds more of the stream than the grain thought: another activation, on another node,
/// wrote it meanwhile (the client reconnected elsewhere). Nothing of the refused write was stored;
/// the grain reloads where the stream stands and sends only what is still missing.
/// </summary>
public sealed class StreamConflictException(StreamKey key, long stored, long expected)
    : InvalidOperationException($"Stream {key} holds events up to {stored} in storage, past the {expected} this node expected; another node wrote it.")
{
    public StreamKey Key { get; } = key;

    public long Stored { get; } = stored;

    public long Expected { get; } = expected;
}
