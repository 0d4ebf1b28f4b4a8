using System.Collections.Concurrent;
using Ingest.Contracts;

namespace Ingest.Silo.Grains;

/// <summary>
/// Hosts stream grains in process: one activation per key, created on first call and
/// retired when idle or at shutdown. A call that races with a retirement is retried on
/// a fresh activation, which loads the stream's state again.
/// </summary>
internal sealed class StreamSilo : IStreamGrainFactory
{
    private readonly ConcurrentDictionary<StreamKey, StreamActivation> _activations = new();
    private readonly StreamNotifier _notifier;
    private readonly Func<StreamKey, StreamActivation> _activate;

    public StreamSilo(GrainServices services, StreamNotifier notifier)
    {
        _notifier = notifier;
        _activate = key => new StreamActivation(key, services, Forget);
    }

    public int ActivationCount => _activations.Count;

    public IStreamGrain GetGrain(StreamKey key) => new StreamGrainReference(this, key);

    public IDisposable Observe(StreamKey key, IStreamObserver observer) => _notifier.Subscribe(key, observer);

    internal async ValueTask<T> InvokeAsync<T>(StreamKey key, Func<Ingest.Grains.StreamGrain, ValueTask<T>> call)
    {
        while (true)
        {
            var activation = _activations.GetOrAdd(key, _activate);
            var (ran, result) = await activation.TryInvokeAsync(call, CancellationToken.None);
            if (ran)
                return result;
            Forget(activation);
        }
    }

    private void Forget(StreamActivation activation) =>
        _activations.TryRemove(new KeyValuePair<StreamKey, StreamActivation>(activation.Key, activation));

    /// <summary>Retires activations unused for <paramref name="idleFor"/>; returns how many.</summary>
    public async Task<int> DeactivateIdleAsync(TimeSpan idleFor, CancellationToken cancellationToken)
    {
        var retired = 0;
        foreach (var (_, activation) in _activations)
        {
            if (await activation.TryDeactivateAsync(idleFor, cancellationToken))
                retired++;
        }
        return retired;
    }

    /// <summary>Flushes and retires every activation, concurrently so their flushes coalesce.</summary>
    public async Task DeactivateAllAsync(CancellationToken cancellationToken)
    {
        var pending = new List<Task>(_activations.Count);
        foreach (var (_, activation) in _activations)
            pending.Add(activation.TryDeactivateAsync(TimeSpan.Zero, cancellationToken).AsTask());
        await Task.WhenAll(pending);
    }
}
