using System.Collections.Concurrent;
using System.Collections.Immutable;
using Ingest.Contracts;
using Ingest.Grains;

namespace Ingest.Silo.Grains;

/// <summary>
/// Progress subscriptions by stream key. They live here rather than in the grain so that
/// they survive the grain's deactivation (Orleans would use a stream provider).
/// </summary>
internal sealed class StreamNotifier : IStreamNotifier
{
    private readonly ConcurrentDictionary<StreamKey, ImmutableArray<IStreamObserver>> _observers = new();

    public void Publish(StreamKey key, StreamProgress progress)
    {
        if (!_observers.TryGetValue(key, out var observers))
            return;
        foreach (var observer in observers)
            observer.OnStored(key, progress);
    }

    public void PublishFailure(StreamKey key, string reason)
    {
        if (!_observers.TryGetValue(key, out var observers))
            return;
        foreach (var observer in observers)
            observer.OnFailed(key, reason);
    }

    public IDisposable Subscribe(StreamKey key, IStreamObserver observer)
    {
        _observers.AddOrUpdate(key, static (_, o) => [o], static (_, list, o) => list.Add(o), observer);
        return new Subscription(this, key, observer);
    }

    private void Unsubscribe(StreamKey key, IStreamObserver observer)
    {
        while (_observers.TryGetValue(key, out var list))
        {
            var next = list.Remove(observer);
            var done = next.IsEmpty
                ? _observers.TryRemove(new KeyValuePair<StreamKey, ImmutableArray<IStreamObserver>>(key, list))
                : _observers.TryUpdate(key, next, list);
            if (done)
                return;
        }
    }

    private sealed class Subscription(StreamNotifier owner, StreamKey key, IStreamObserver observer) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                owner.Unsubscribe(key, observer);
        }
    }
}
