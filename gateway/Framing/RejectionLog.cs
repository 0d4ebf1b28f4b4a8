namespace Ingest.Gateway.Framing;

/// <summary>Counts rejections and keeps the first few to report back, so memory stays bounded.</summary>
internal sealed class RejectionLog(int keep)
{
    private readonly List<EventRejection> _kept = [];

    public long Count { get; private set; }

    public IReadOnlyList<EventRejection> Kept => _kept;

    public void Add(EventRejection rejection)
    {
        Count++;
        if (_kept.Count < keep)
            _kept.Add(rejection);
    }
}
