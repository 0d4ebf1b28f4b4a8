using Ingest.Contracts;
using Ingest.Grains;
using Microsoft.Extensions.Logging;

namespace Ingest.Silo.Grains;

/// <summary>
/// The one activation of a stream key. Every call, timer tick and lifecycle hook runs as
/// a turn: one at a time, in arrival order, so the grain never needs a lock.
/// </summary>
internal sealed partial class StreamActivation : IGrainContext
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly StreamGrain _grain;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<ActivationTimer> _timers = [];
    private readonly Action<StreamActivation> _retired;
    private bool _activated;
    private bool _deactivated;
    private bool _deactivateWhenDone;
    private long _lastUsed;

    public StreamActivation(StreamKey key, GrainServices services, Action<StreamActivation> retired)
    {
        _retired = retired;
        Key = key;
        _time = services.Time;
        _logger = services.Logger;
        _lastUsed = _time.GetTimestamp();
        _grain = new StreamGrain(key, services.Sinks, this, services.Notifier, services.Flush, services.Time);
    }

    public StreamKey Key { get; }

    /// <summary>Runs <paramref name="call"/> as a turn; false if this activation has already gone.</summary>
    public async ValueTask<(bool Ran, T Result)> TryInvokeAsync<T>(Func<StreamGrain, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        try
        {
            if (_deactivated)
                return (false, default!);
            if (!_activated)
            {
                await _grain.OnActivateAsync(cancellationToken);
                _activated = true;
            }
            return (true, await call(_grain));
        }
        finally
        {
            _lastUsed = _time.GetTimestamp();
            if (_deactivateWhenDone && !_deactivated)
                Retire();
            _turn.Release();
        }
    }

    /// <summary>Called by the grain, inside a turn: nothing is pending, so no final flush is needed.</summary>
    public void DeactivateOnIdle() => _deactivateWhenDone = true;

    /// <summary>Flushes and retires the activation if it has not been used for <paramref name="idleFor"/>.</summary>
    public async ValueTask<bool> TryDeactivateAsync(TimeSpan idleFor, CancellationToken cancellationToken)
    {
        // A turn in progress means the grain is not idle; it may be waiting on storage for a
        // long time, and the idle collector must not queue behind it.
        if (idleFor > TimeSpan.Zero)
        {
            if (!await _turn.WaitAsync(0, cancellationToken))
                return false;
        }
        else
        {
            await _turn.WaitAsync(cancellationToken);
        }
        try
        {
            if (_deactivated)
                return true;
            if (_time.GetElapsedTime(_lastUsed) < idleFor)
                return false;
            if (_activated)
                await _grain.OnDeactivateAsync(cancellationToken);
            // Only now, with nothing left pending: a failed flush keeps the activation and its events.
            Retire();
            return true;
        }
        finally
        {
            _turn.Release();
        }
    }

    private void Retire()
    {
        _deactivated = true;
        foreach (var timer in _timers)
            timer.Cancel();
        _timers.Clear();
        _retired(this);
    }

    public IDisposable RegisterTimer(Func<ValueTask> callback, TimeSpan dueTime)
    {
        var timer = new ActivationTimer(this, callback);
        _timers.Add(timer);
        timer.Start(_time, dueTime);
        return timer;
    }

    public void WhenDone(Task task, Func<ValueTask> callback) => _ = AfterAsync(task, callback);

    private async Task AfterAsync(Task task, Func<ValueTask> callback)
    {
        await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await RunTurnAsync(static () => true, callback);
    }

    private Task TickAsync(ActivationTimer timer) =>
        RunTurnAsync(
            () =>
            {
                if (timer.IsCancelled)
                    return false;
                _timers.Remove(timer);
                return true;
            },
            timer.Callback);

    /// <summary>A turn the grain did not get as a call: a timer's tick or a completion.</summary>
    /// <param name="wanted">Asked inside the turn; false skips the callback.</param>
    private async Task RunTurnAsync(Func<bool> wanted, Func<ValueTask> callback)
    {
        try
        {
            await _turn.WaitAsync();
            try
            {
                if (_deactivated || !wanted())
                    return;
                await callback();
            }
            finally
            {
                _turn.Release();
            }
        }
        catch (Exception exception)
        {
            LogTurnFailed(Key, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A timer or completion of stream {Key} failed; its events stay buffered for the next flush")]
    private partial void LogTurnFailed(StreamKey key, Exception exception);

    /// <summary>A one-shot timer whose tick is queued as a turn of its activation.</summary>
    private sealed class ActivationTimer(StreamActivation owner, Func<ValueTask> callback) : IDisposable
    {
        private ITimer? _timer;

        public Func<ValueTask> Callback { get; } = callback;

        public bool IsCancelled { get; private set; }

        public void Start(TimeProvider time, TimeSpan dueTime) =>
            _timer = time.CreateTimer(static state => _ = ((ActivationTimer)state!).FireAsync(), this, dueTime, Timeout.InfiniteTimeSpan);

        /// <summary>Called by the grain, inside a turn.</summary>
        public void Dispose()
        {
            Cancel();
            owner._timers.Remove(this);
        }

        public void Cancel()
        {
            IsCancelled = true;
            _timer?.Dispose();
        }

        private Task FireAsync() => owner.TickAsync(this);
    }
}
