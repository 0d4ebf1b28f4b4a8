using Ingest.Contracts;

namespace Ingest.Gateway.Ingest;

/// <summary>Remembers the newest durable count of a stream, for answers given after a failure.</summary>
internal sealed class ProgressTracker : IStreamObserver
{
    private long _stored;

    public long Stored => Interlocked.Read(ref _stored);

    public void OnStored(StreamKey key, StreamProgress progress) => AtomicMax.Raise(ref _stored, progress.Stored);

    /// <summary>A POST hears of failures from the call that failed.</summary>
    public void OnFailed(StreamKey key, string reason)
    {
    }
}
