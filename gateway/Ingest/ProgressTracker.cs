using Ingest.Contracts;

namespace Ingest.Gateway.Ingest;

/// <summary>Remembers the newest durable progress of a stream, for answers given after a failure.</summary>
internal sealed class ProgressTracker : IStreamObserver
{
    private StreamProgress _latest = StreamProgress.None;

    public StreamProgress Latest => Volatile.Read(ref _latest);

    public void OnStored(StreamKey key, StreamProgress progress)
    {
        var seen = Volatile.Read(ref _latest);
        while (progress.Position > seen.Position || (progress.Position == seen.Position && progress.Duplicates > seen.Duplicates))
        {
            var raced = Interlocked.CompareExchange(ref _latest, progress, seen);
            if (ReferenceEquals(raced, seen))
                return;
            seen = raced;
        }
    }

    /// <summary>A POST hears of failures from the call that failed.</summary>
    public void OnFailed(StreamKey key, string reason)
    {
    }
}
