using Ingest.Contracts;

namespace Ingest.Gateway.Framing;

/// <summary>
/// Packs events into one <see cref="EventBatch"/>. The scratch buffers are reused from
/// batch to batch; each built batch costs two exact-size arrays.
/// </summary>
internal sealed class EventBatchBuilder
{
    private byte[] _payloads = new byte[64 * 1024];
    private int[] _ends = new int[1024];
    private int _bytes;

    public int Count { get; private set; }

    public int Rejected { get; private set; }

    public int Bytes => _bytes;

    public bool IsEmpty => Count == 0 && Rejected == 0;

    public void Add(ReadOnlySpan<byte> payload)
    {
        if (_bytes + payload.Length > _payloads.Length)
            Array.Resize(ref _payloads, Math.Max(_payloads.Length * 2, _bytes + payload.Length));
        if (Count == _ends.Length)
            Array.Resize(ref _ends, _ends.Length * 2);
        payload.CopyTo(_payloads.AsSpan(_bytes));
        _bytes += payload.Length;
        _ends[Count++] = _bytes;
    }

    public void Reject() => Rejected++;

    /// <summary>The events added since the last build, stamped with <paramref name="receivedAt"/>.</summary>
    public EventBatch Build(DateTimeOffset receivedAt)
    {
        var batch = new EventBatch(_payloads.AsSpan(0, _bytes).ToArray(), _ends.AsSpan(0, Count).ToArray(), Count, Rejected, receivedAt);
        _bytes = 0;
        Count = 0;
        Rejected = 0;
        return batch;
    }
}
