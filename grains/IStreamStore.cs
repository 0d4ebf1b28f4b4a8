using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>Where a grain loads its state from on activation.</summary>
public interface IStreamStore
{
    ValueTask<StreamState?> LoadAsync(StreamKey key, CancellationToken cancellationToken);
}
