using Ingest.Contracts;

namespace Ingest.Gateway.Framing;

/// <summary>
/// Packs events into one <see cref="EventBatch"/>, numbering each batch from where the last
/// one ended: every event takes a sequence number, rejected ones too. The scratch buffers are
/// reused from batch to batch; each built batch costs two exact-size arrays, and a third only
/// when rejected events sit between stored ones.
/// </summary>
/// <remarks>
/// The scratch buffers start empty and grow with use: a node holds one builder per open stream,
/// and ten thousand idle WebSockets must not hold ten thousand batch-sized buffers.
/// </remarks>
internal sealed class EventBatchBuilder(long firstSeq = 1)
{
    private const int FirstPayloadBytes = 4 * 1024;
    private const int FirstEvents = 64;

    private byte[] _payloads = [];
    private int[] _ends = [];
    private int[]? _offsets;
    private int _bytes;

    public int Count { get; private set; }

    public int Rejected { get; private set; }

    public int Bytes => _bytes;

    public bool IsEmpty => Count == 0 && Rejected == 0;

    /// <summary>The sequence number the next event takes.</summary>
    public long NextSeq => firstSeq + Count + Rejected;

    public void Add(ReadOnlySpan<byte> payload)
    {
        if (_bytes + payload.Length > _payloads.Length)
            Array.Resize(ref _payloads, Math.Max(Math.Max(_payloads.Length * 2, FirstPayloadBytes), _bytes + payload.Length));
        if (Count == _ends.Length)
        {
            Array.Resize(ref _ends, Math.Max(_ends.Length * 2, FirstEvents));
            if (_offsets is not null)
                Array.Resize(ref _offsets, _ends.Length);
        }
        payload.CopyTo(_payloads.AsSpan(_bytes));
        _bytes += payload.Length;
        _offsets?[Count] = Count + Rejected;
        _ends[Count++] = _bytes;
    }

    public void Reject()
    {
        // From here on, event i is not entry i: record where each event sits.
        if (_offsets is null)
        {
            _offsets = new int[_ends.Length];
            for (var i = 0; i < Count; i++)
                _offsets[i] = i;
        }
        Rejected++;
    }

    /// <summary>The events added since the last build, stamped with <paramref name="receivedAt"/>.</summary>
    public EventBatch Build(DateTimeOffset receivedAt)
    {
        var batch = new EventBatch(_payloads.AsSpan(0, _bytes).ToArray(), _ends.AsSpan(0, Count).ToArray(), Count, Rejected, receivedAt)
        {
            FirstSeq = firstSeq,
            Offsets = _offsets is null || Count == 0 ? null : _offsets.AsSpan(0, Count).ToArray(),
        };
        firstSeq += Count + Rejected;
        _bytes = 0;
        Count = 0;
        Rejected = 0;
        _offsets = null;
        return batch;
    }
}
