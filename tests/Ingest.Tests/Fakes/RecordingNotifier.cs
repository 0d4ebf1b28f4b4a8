using Ingest.Contracts;
using Ingest.Grains;

namespace Ingest.Tests.Fakes;

internal sealed class RecordingNotifier : IStreamNotifier
{
    private readonly Lock _lock = new();
    private readonly List<StreamProgress> _published = [];

    public IReadOnlyList<StreamProgress> Published
    {
        get
        {
            lock (_lock)
                return [.. _published];
        }
    }

    public List<string> Failures { get; } = [];

    public void PublishFailure(StreamKey key, string reason)
    {
        lock (_lock)
            Failures.Add(reason);
    }

    public void Publish(StreamKey key, StreamProgress progress)
    {
        lock (_lock)
            _published.Add(progress);
    }
}
