using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>
/// A sink refused a write that followed one of the same stream that failed (<see
/// cref="StreamFlush.Follows"/>): storing it would leave a gap. Nothing of it was stored; the
/// grain writes both again, in order.
/// </summary>
public sealed class PrecedingWriteFailedException(StreamKey key)
    : InvalidOperationException($"Stream {key}: an earlier write of this stream failed, so the write that followed it was not stored.")
{
    public StreamKey Key { get; } = key;
}
