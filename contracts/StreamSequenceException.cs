namespace Ingest.Contracts;

/// <summary>
/// A batch starts past the stream's next sequence number: storing it would leave a gap.
/// The client is told where the stream stands and sends from there.
/// </summary>
public sealed class StreamSequenceException(StreamKey key, long position, long firstSeq)
    : InvalidOperationException($"Stream {key} holds events up to {position}; events must continue from {position + 1}, not {firstSeq}.")
{
    public long Position { get; } = position;

    public long FirstSeq { get; } = firstSeq;
}
