using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>Events not yet durable, kept as the numbered batches they arrived in.</summary>
internal sealed class PendingEvents
{
    private readonly List<EventBatch> _batches = [];

    public long Events { get; private set; }

    public long Bytes { get; private set; }

    public long Rejected { get; private set; }

    public long Duplicates { get; private set; }

    /// <summary>Sequence numbers taken: events and rejected events.</summary>
    public long Entries => Events + Rejected;

    public bool IsEmpty => Events == 0 && Rejected == 0 && Duplicates == 0;

    public void Add(EventBatch batch)
    {
        if (batch.Count > 0)
            _batches.Add(batch);
        Events += batch.Count;
        Bytes += batch.Bytes;
        Rejected += batch.Rejected;
    }

    public void AddDuplicates(long events) => Duplicates += events;

    /// <summary>Appends everything <paramref name="later"/> holds, whose events follow these.</summary>
    public void AddAll(PendingEvents later)
    {
        _batches.AddRange(later._batches);
        Events += later.Events;
        Bytes += later.Bytes;
        Rejected += later.Rejected;
        Duplicates += later.Duplicates;
    }

    /// <summary>The batches, cut to what a sink holding events up to <paramref name="position"/> lacks.</summary>
    public IReadOnlyList<EventBatch> After(long position)
    {
        var batches = new List<EventBatch>(_batches.Count);
        foreach (var batch in _batches)
        {
            if (batch.After(position) is { } part)
                batches.Add(part);
        }
        return batches;
    }

    /// <summary>Drops what a sink holding events up to <paramref name="position"/> has already, counting the events as duplicates.</summary>
    public void DropThrough(long position)
    {
        var kept = After(position);
        var events = Events;
        var duplicates = Duplicates;
        Clear();
        foreach (var batch in kept)
            Add(batch);
        Duplicates = duplicates + (events - Events);
    }

    public void Clear()
    {
        _batches.Clear();
        Events = 0;
        Bytes = 0;
        Rejected = 0;
        Duplicates = 0;
    }
}
