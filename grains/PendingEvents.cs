using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>Events appended since the last flush, kept as the batches they arrived in.</summary>
internal sealed class PendingEvents
{
    private readonly List<EventBatch> _batches = [];

    public long Events { get; private set; }

    public long Bytes { get; private set; }

    public long Rejected { get; private set; }

    public bool IsEmpty => Events == 0 && Rejected == 0;

    public void Add(EventBatch batch)
    {
        if (batch.Count > 0)
            _batches.Add(batch);
        Events += batch.Count;
        Bytes += batch.Bytes;
        Rejected += batch.Rejected;
    }

    /// <summary>Hands the batches over; the caller owns the returned list.</summary>
    public IReadOnlyList<EventBatch> Snapshot() => [.. _batches];

    public void Clear()
    {
        _batches.Clear();
        Events = 0;
        Bytes = 0;
        Rejected = 0;
    }
}
