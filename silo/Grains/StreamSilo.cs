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
    private readonly GrainServices _services;
    private readonly StreamNotifier _notifier;

    public StreamSilo(GrainServices services, StreamNotifier notifier)
    {
        _services = services;
        _notifier = notifier;
    }

    public int ActivationCount => _activations.Count;

    public IStreamGrain GetGrain(StreamKey key) => new StreamGrainReference(this, key);

    public IDisposable Observe(StreamKey key, IStreamObserver observer) => _notifier.Subscribe(key, observer);

    internal async ValueTask<T> InvokeAsync<T>(StreamKey key, Func<Ingest.Grains.StreamGrain, ValueTask<T>> call)
    {
        while (true)
        {
            var activation = _activations.GetOrAdd(key, static (k, services) => new StreamActivation(k, services), _services);
            var (ran, result) = await activation.TryInvokeAsync(call, CancellationToken.None);
            if (ran)
                return result;
            _activations.TryRemove(new KeyValuePair<StreamKey, StreamActivation>(key, activation));
        }
    }

    /// <summary>Retires activations unused for <paramref name="idleFor"/>; returns how many.</summary>
    public async Task<int> DeactivateIdleAsync(TimeSpan idleFor, CancellationToken cancellationToken)
    {
        var retired = 0;
        foreach (var (key, activation) in _activations)
        {
            if (await activation.TryDeactivateAsync(idleFor, cancellationToken))
            {
                _activations.TryRemove(new KeyValuePair<StreamKey, StreamActivation>(key, activation));
                retired++;
            }
        }
        return retired;
    }

    /// <summary>Flushes and retires every activation, concurrently so their flushes coalesce.</summary>
    public async Task DeactivateAllAsync(CancellationToken cancellationToken)
    {
        var pending = new List<Task>(_activations.Count);
        foreach (var (key, activation) in _activations)
            pending.Add(RetireAsync(key, activation, cancellationToken));
        await Task.WhenAll(pending);
    }

    private async Task RetireAsync(StreamKey key, StreamActivation activation, CancellationToken cancellationToken)
    {
        if (await activation.TryDeactivateAsync(TimeSpan.Zero, cancellationToken))
            _activations.TryRemove(new KeyValuePair<StreamKey, StreamActivation>(key, activation));
    }
}
