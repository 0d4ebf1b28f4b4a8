namespace Ingest.Gateway.Framing;

/// <summary>Counts rejections and keeps the first few to report back, so memory stays bounded.</summary>
internal sealed class RejectionLog(int keep)
{
    private readonly List<EventRejection> _kept = [];

    public long Count { get; private set; }

    /// <summary>The first rejection, kept even when none are listed: what a log line names.</summary>
    public EventRejection? First { get; private set; }

    public IReadOnlyList<EventRejection> Kept => _kept;

    public void Add(EventRejection rejection)
    {
        Count++;
        First ??= rejection;
        if (_kept.Count < keep)
            _kept.Add(rejection);
    }
}
