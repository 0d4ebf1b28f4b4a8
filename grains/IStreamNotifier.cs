using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>Where a grain announces progress; subscriptions outlive an activation.</summary>
public interface IStreamNotifier
{
    void Publish(StreamKey key, StreamProgress progress);

    void PublishFailure(StreamKey key, string reason);
}
