using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>
/// One stream: its metadata, its counts, and the events not yet durable. Events are
/// buffered and flushed to the sink when a size threshold is reached, when the oldest
/// buffered event has waited <see cref="FlushOptions.MaxDelay"/>, on close and on
/// deactivation (the buffer + timer + flush-on-deactivate pattern of Orleans'
/// GPSTracker PushNotifierGrain). The state is written in the same sink write as the
/// events it counts, so counts and events never disagree.
/// </summary>
public sealed class StreamGrain : IStreamGrain, IGrainLifecycle
{
    private readonly StreamKey _key;
    private readonly IStreamStore _store;
    private readonly IEventSink _sink;
    private readonly IGrainContext _context;
    private readonly IStreamNotifier _notifier;
    private readonly FlushOptions _options;
    private readonly PendingEvents _pending = new();
    private StreamState? _state;
    private bool _stateDirty;
    private IDisposable? _flushTimer;

    public StreamGrain(
        StreamKey key,
        IStreamStore store,
        IEventSink sink,
        IGrainContext context,
        IStreamNotifier notifier,
        FlushOptions options)
    {
        _key = key;
        _store = store;
        _sink = sink;
        _context = context;
        _notifier = notifier;
        _options = options;
    }

    public StreamProgress Progress => _state?.Progress ?? StreamProgress.None;

    public async ValueTask OnActivateAsync(CancellationToken cancellationToken) =>
        _state = await _store.LoadAsync(_key, cancellationToken);

    public ValueTask OnDeactivateAsync(CancellationToken cancellationToken) =>
        FlushCoreAsync(cancellationToken);

    public async ValueTask<StreamProgress> OpenAsync(StreamOpened opened)
    {
        if (_state is null)
        {
            _state = StreamState.Opened(_key, opened);
            _stateDirty = true;
            await FlushCoreAsync(CancellationToken.None);
        }
        return Progress;
    }

    public async ValueTask AppendAsync(EventBatch batch)
    {
        EnsureOpened();
        _pending.Add(batch);
        if (_pending.Events >= _options.MaxEvents || _pending.Bytes >= _options.MaxBytes)
            await FlushCoreAsync(CancellationToken.None);
        else if (_flushTimer is null && !_pending.IsEmpty)
            _flushTimer = _context.RegisterTimer(OnFlushTimerAsync, _options.MaxDelay);
    }

    public async ValueTask<StreamProgress> FlushAsync()
    {
        await FlushCoreAsync(CancellationToken.None);
        return Progress;
    }

    public async ValueTask<StreamProgress> CloseAsync(DateTimeOffset closedAt)
    {
        EnsureOpened();
        _state = _state! with { ClosedAt = closedAt };
        _stateDirty = true;
        await FlushCoreAsync(CancellationToken.None);
        // Nothing is buffered any more; short-lived streams must not pile up activations.
        _context.DeactivateOnIdle();
        return Progress;
    }

    private ValueTask OnFlushTimerAsync()
    {
        _flushTimer?.Dispose();
        _flushTimer = null;
        return FlushCoreAsync(CancellationToken.None);
    }

    private async ValueTask FlushCoreAsync(CancellationToken cancellationToken)
    {
        if (_state is null || (_pending.IsEmpty && !_stateDirty))
            return;

        var current = _state;
        var next = current with
        {
            Events = current.Events + _pending.Events,
            Bytes = current.Bytes + _pending.Bytes,
            Rejected = current.Rejected + _pending.Rejected,
        };
        try
        {
            await _sink.WriteAsync(new StreamFlush(next, current.Events + 1, _pending.Snapshot()), cancellationToken);
        }
        catch (Exception exception)
        {
            // Nothing changes here: the events stay pending and the next flush retries them.
            // Subscribers hear now, even when this flush ran on a timer with no caller to throw to.
            _notifier.PublishFailure(_key, exception.Message);
            throw;
        }

        _state = next;
        _stateDirty = false;
        _pending.Clear();
        _flushTimer?.Dispose();
        _flushTimer = null;
        if (next.Events != current.Events || next.Rejected != current.Rejected)
            _notifier.Publish(_key, next.Progress);
    }

    private void EnsureOpened()
    {
        if (_state is null)
            throw new InvalidOperationException($"Stream {_key} was not opened.");
    }
}
