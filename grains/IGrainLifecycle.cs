namespace Ingest.Grains;

/// <summary>Activation hooks a host calls, each as a turn of its own (Orleans: <c>IGrainBase</c>).</summary>
public interface IGrainLifecycle
{
    ValueTask OnActivateAsync(CancellationToken cancellationToken);

    ValueTask OnDeactivateAsync(CancellationToken cancellationToken);
}
