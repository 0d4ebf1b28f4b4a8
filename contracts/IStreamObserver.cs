namespace Ingest.Contracts;

/// <summary>Hears when a stream's durable count advances.</summary>
public interface IStreamObserver
{
    void OnStored(StreamKey key, StreamProgress progress);
}
