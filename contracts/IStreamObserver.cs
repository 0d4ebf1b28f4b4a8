namespace Ingest.Contracts;

/// <summary>Hears when a stream's durable count advances, or when its events could not be stored.</summary>
public interface IStreamObserver
{
    void OnStored(StreamKey key, StreamProgress progress);

    /// <summary>A flush failed; the events stay buffered, but the client should hear of it now.</summary>
    void OnFailed(StreamKey key, string reason);
}
