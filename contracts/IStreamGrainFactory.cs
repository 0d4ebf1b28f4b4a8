namespace Ingest.Contracts;

/// <summary>How a gateway reaches stream grains, wherever they are hosted.</summary>
public interface IStreamGrainFactory
{
    IStreamGrain GetGrain(StreamKey key);

    /// <summary>Subscribes to a stream's progress until the returned handle is disposed.</summary>
    IDisposable Observe(StreamKey key, IStreamObserver observer);
}
