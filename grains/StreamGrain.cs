using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>
/// One stream: its metadata, its counts, and the events not yet durable. Events are
/// buffered and flushed to the stream's sinks when a size threshold is reached, at the first tick
/// of the <see cref="FlushClock"/> (every <see cref="FlushOptions.MaxDelay"/>) after an event is
/// buffered, on close and on deactivation (the buffer + timer + flush-on-deactivate pattern of Orleans' GPSTracker
/// PushNotifierGrain). Each sink writes the stream's row in the same transaction as the
/// events it counts, so a sink's counts and events never disagree.
/// </summary>
/// <remarks>
/// <para>
/// A flush started by the timer or by a threshold is a flight: the grain takes further calls while
/// its sinks commit it, and lands it in a turn of its own once they have (<see
/// cref="IGrainContext.WhenDone"/>), so events that arrive meanwhile start their own delay at
/// once rather than after the commit. One flight at a time: a flush that comes due meanwhile waits
/// for it to land, so a stream's writes reach its sinks in order. The stream's state (<see
/// cref="Progress"/>) moves only when a flight lands. Calls that must see their events durable
/// (flush, close, reopen, deactivation) land the flight and write the rest before they answer.
/// </para>
/// <para>
/// Every event takes the stream's next sequence number. A batch that names its first
/// sequence number is checked against the stream: what the stream holds already is dropped
/// as duplicates, and a gap is refused. With several sinks, the grain tracks what each one
/// holds, so a sink that failed is sent only what it lacks, and the stream's progress is what
/// all of them hold.
/// </para>
/// </remarks>
public sealed class StreamGrain : IStreamGrain, IGrainLifecycle
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);
    private const int MaxConflictAttempts = 4;

    private readonly StreamKey _key;
    private readonly SinkSlot[] _slots;
    private readonly StorageSinks _deployed;
    private readonly IGrainContext _context;
    private readonly IStreamNotifier _notifier;
    private readonly FlushOptions _options;
    private readonly TimeProvider _time;
    private PendingEvents _pending = new();
    // The events of the flight in progress; empty when there is none. They precede _pending's.
    private PendingEvents _flying = new();
    private Flight? _flight;
    // The timer came due during a flight: the next one starts when it lands.
    private bool _flushDue;
    private StreamState? _state;
    private bool _stateDirty;
    private bool _named;
    private IDisposable? _flushTimer;
    private int _failedFlushes;

    public StreamGrain(
        StreamKey key,
        IReadOnlyList<SinkPort> sinks,
        IGrainContext context,
        IStreamNotifier notifier,
        FlushOptions options,
        TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sinks.Count);
        _key = key;
        _slots = [.. sinks.Select(port => new SinkSlot(port))];
        _deployed = sinks.Aggregate(StorageSinks.None, (all, port) => all | port.Sink);
        _context = context;
        _notifier = notifier;
        _options = options;
        _time = time;
    }

    public StreamProgress Progress => _state?.Progress ?? StreamProgress.None;

    /// <summary>
    /// Loads the stream's row from every sink. A sink that cannot answer is asked again when the
    /// stream turns out to need it, so a stream that does not use a failed sink carries on.
    /// </summary>
    public async ValueTask OnActivateAsync(CancellationToken cancellationToken)
    {
        var loads = _slots.Select(slot => slot.LoadAsync(_key, cancellationToken).AsTask()).ToArray();
        try
        {
            await Task.WhenAll(loads);
        }
        catch when (_slots.Any(slot => slot.Loaded))
        {
        }
        if (!_slots.Any(slot => slot.Loaded))
            await Task.WhenAll(loads);
        if (FirstRow() is { } row)
            await ResolveAsync(row.Sinks, row, cancellationToken);
    }

    public ValueTask OnDeactivateAsync(CancellationToken cancellationToken) =>
        FlushCoreAsync(cancellationToken);

    public async ValueTask<StreamProgress> OpenAsync(StreamOpened opened)
    {
        _named = opened.Named;
        if (_state is null)
        {
            var requested = opened.Sinks == StorageSinks.None ? _deployed : opened.Sinks;
            if ((requested & ~_deployed) != StorageSinks.None)
                throw new ArgumentException($"This deployment writes to {_deployed.ToNames()}, not {requested.ToNames()}.", nameof(opened));
            // A sink that failed to load might hold the stream; it must answer before the stream is new.
            await LoadMissingAsync(requested, CancellationToken.None);
            if (FirstRow() is { } row)
            {
                await ResolveAsync(row.Sinks, row, CancellationToken.None);
            }
            else
            {
                _state = StreamState.Opened(_key, opened, requested);
                _stateDirty = true;
            }
        }
        else
        {
            // An activation that outlived its connection may be behind: the stream may have moved
            // to another node and on. The client must hear where storage stands. Storage that only
            // this node writes holds nothing this activation does not know.
            await FlushCoreAsync(CancellationToken.None);
            if (_slots.Any(slot => !slot.Port.Exclusive && EnsureOpened().Sinks.HasFlag(slot.Port.Sink)))
                await RefreshAsync(CancellationToken.None);
        }
        var state = EnsureOpened();
        if (state.ClosedAt is not null)
        {
            // A named stream reopens: it is no longer closed.
            _state = state with { ClosedAt = null };
            _stateDirty = true;
        }
        await FlushCoreAsync(CancellationToken.None);
        return Progress;
    }

    public async ValueTask AppendAsync(EventBatch batch)
    {
        var state = EnsureOpened();
        var next = state.Position + _flying.Entries + _pending.Entries + 1;
        var first = batch.FirstSeq == 0 ? next : batch.FirstSeq;
        if (first > next)
            throw new StreamSequenceException(_key, next - 1, first);

        var numbered = batch with { FirstSeq = first };
        _pending.AddDuplicates(numbered.EventsThrough(next - 1));
        if (numbered.After(next - 1) is { } fresh)
            _pending.Add(fresh);

        // The timer starts with the first append after a flush, not when the events arrived: a
        // caller that waited for a flush to end (a POST reading its body) would otherwise find its
        // next batch overdue, and flush one batch at a time.
        if (_pending.Events >= _options.MaxEvents || _pending.Bytes >= _options.MaxBytes)
        {
            // A caller that outpaces storage waits here for the flight before, so a stream holds
            // at most two thresholds' worth; one whose storage is failing waits for the write
            // itself and hears why.
            if (_flight is not null)
                await LandAsync();
            if (_failedFlushes > 0)
                await FlushCoreAsync(CancellationToken.None);
            else
                TakeOff();
        }
        else if (_flushTimer is null && !_pending.IsEmpty)
        {
            // On the clock's ticks every stream's timer fires together, and the sink commits them as one.
            _flushTimer = _context.RegisterTimer(OnFlushTimerAsync, FlushClock.UntilNextTick(_time, _options.MaxDelay));
        }
    }

    public async ValueTask<StreamProgress> FlushAsync()
    {
        await FlushCoreAsync(CancellationToken.None);
        return Progress;
    }

    public async ValueTask<StreamProgress> CloseAsync(DateTimeOffset closedAt)
    {
        await LandAsync();
        _state = EnsureOpened() with { ClosedAt = closedAt };
        _stateDirty = true;
        await FlushCoreAsync(CancellationToken.None);
        // Nothing is buffered any more; streams of one request or connection must not pile up
        // activations. A named stream may come back soon, and stays until it is idle.
        if (!_named)
            _context.DeactivateOnIdle();
        return Progress;
    }

    public ValueTask<StreamProgress?> GetProgressAsync() => ValueTask.FromResult(_state?.Progress);

    private StreamState? FirstRow() => _slots.FirstOrDefault(slot => slot.Row is not null)?.Row;

    private async ValueTask LoadMissingAsync(StorageSinks sinks, CancellationToken cancellationToken)
    {
        foreach (var slot in _slots)
        {
            if (!slot.Loaded && sinks.HasFlag(slot.Port.Sink))
                await slot.LoadAsync(_key, cancellationToken);
        }
    }

    /// <summary>The stream's durable state is what every sink it goes to holds: the row furthest behind.</summary>
    private async ValueTask ResolveAsync(StorageSinks sinks, StreamState known, CancellationToken cancellationToken)
    {
        await LoadMissingAsync(sinks, cancellationToken);
        StreamState? behind = null;
        foreach (var slot in _slots)
        {
            if (!sinks.HasFlag(slot.Port.Sink))
                continue;
            var row = slot.Row ?? known with { ClosedAt = null, Events = 0, Bytes = 0, Rejected = 0, Duplicates = 0 };
            if (behind is null || row.Position < behind.Position)
                behind = row;
        }
        _state = behind ?? throw new InvalidOperationException($"Stream {_key} goes to {sinks.ToNames()}, which this deployment does not have.");
        // A sink that is behind must be brought level even if no new event comes.
        _stateDirty = _slots.Any(slot => sinks.HasFlag(slot.Port.Sink) && slot.Row is null);
    }

    private async ValueTask OnFlushTimerAsync()
    {
        _flushTimer?.Dispose();
        _flushTimer = null;
        if (_flight is not null)
            _flushDue = true;
        else if (_failedFlushes > 0)
            await FlushCoreAsync(CancellationToken.None);
        else
            TakeOff();
    }

    /// <summary>Starts a flight of everything pending, unless one is in progress or nothing is pending.</summary>
    private void TakeOff()
    {
        _flushDue = false;
        if (_flight is not null || _state is null || (_pending.IsEmpty && !_stateDirty))
            return;
        var current = _state;
        var next = Advance(current, _pending);
        var writes = StartWrites(current, next, awaited: false, CancellationToken.None);
        (_flying, _pending) = (_pending, _flying);
        var flight = new Flight(writes, current, next, _stateDirty);
        _flight = flight;
        _stateDirty = false;
        _flushTimer?.Dispose();
        _flushTimer = null;
        _context.WhenDone(flight.Landed, () => OnFlightLandedAsync(flight));
    }

    private async ValueTask OnFlightLandedAsync(Flight flight)
    {
        // A call that needed the flight landed it already.
        if (_flight != flight)
            return;
        if (Land() is StreamConflictException)
        {
            // Another node wrote the stream: the flush learns how far and sends what is missing.
            await FlushCoreAsync(CancellationToken.None);
        }
        else if (_flushDue && _failedFlushes == 0)
        {
            TakeOff();
        }
    }

    /// <summary>Waits for the flight in progress, if any, and lands it.</summary>
    private async ValueTask LandAsync()
    {
        if (_flight is not { } flight)
            return;
        await flight.Landed.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_flight == flight)
            Land();
    }

    /// <summary>
    /// Takes in the ended flight: the stream moves on to its state, or its events go back in front
    /// of what came since, to be written again with them.
    /// </summary>
    /// <returns>What failed the flight; null if it succeeded.</returns>
    private Exception? Land()
    {
        var flight = _flight!;
        _flight = null;
        var failure = flight.Failure();
        if (failure is null)
        {
            _flying.Clear();
            Stored(flight.Current, flight.Next);
            return null;
        }
        _flying.AddAll(_pending);
        _pending.Clear();
        (_flying, _pending) = (_pending, _flying);
        _stateDirty |= flight.StateDirty;
        if (failure is not StreamConflictException)
            Failed(failure);
        return failure;
    }

    private static StreamState Advance(StreamState current, PendingEvents pending) => current with
    {
        Events = current.Events + pending.Events,
        Bytes = current.Bytes + pending.Bytes,
        Rejected = current.Rejected + pending.Rejected,
        Duplicates = current.Duplicates + pending.Duplicates,
    };

    /// <summary>Lands any flight, then writes everything pending and waits until it is durable.</summary>
    private async ValueTask FlushCoreAsync(CancellationToken cancellationToken)
    {
        await LandAsync();
        _flushDue = false;
        for (var attempt = 1; ; attempt++)
        {
            if (_state is null || (_pending.IsEmpty && !_stateDirty))
                return;
            var current = _state;
            var next = Advance(current, _pending);
            var writes = StartWrites(current, next, awaited: true, cancellationToken);
            try
            {
                await Task.WhenAll(writes);
            }
            catch (Exception) when (attempt < MaxConflictAttempts && writes.Any(write => write.Exception?.InnerException is StreamConflictException))
            {
                // Another node wrote the stream: learn how far, keep only what is still missing, go again.
                await RefreshAsync(cancellationToken);
                continue;
            }
            catch (Exception exception)
            {
                // Each sink that took the events is sent only what it lacks when they are retried.
                Failed(exception);
                throw;
            }

            _stateDirty = false;
            _pending.Clear();
            _flushTimer?.Dispose();
            _flushTimer = null;
            Stored(current, next);
            return;
        }
    }

    /// <summary>
    /// Reads every sink's row again and stands where storage stands: pending events storage now
    /// holds are dropped as duplicates. A close or reopen not yet written is kept.
    /// </summary>
    private async ValueTask RefreshAsync(CancellationToken cancellationToken)
    {
        System.Diagnostics.Debug.Assert(_flight is null, "A flight's events would be dropped as duplicates of themselves.");
        var previous = EnsureOpened();
        foreach (var slot in _slots)
        {
            if (previous.Sinks.HasFlag(slot.Port.Sink))
                await slot.LoadAsync(_key, cancellationToken);
        }
        await ResolveAsync(previous.Sinks, previous, cancellationToken);
        var resolved = EnsureOpened();
        if (resolved.Position < previous.Position)
        {
            // Storage never moves back under a live activation unless retention removed the row;
            // what this activation knows is then the better answer.
            _state = previous;
            return;
        }
        if (resolved.ClosedAt != previous.ClosedAt)
        {
            _state = resolved with { ClosedAt = previous.ClosedAt };
            _stateDirty = true;
        }
        _pending.DropThrough(_state!.Position);
        if (_state.Progress != previous.Progress)
            _notifier.Publish(_key, _state.Progress);
    }

    /// <summary>
    /// Sends a sink what it lacks to reach <paramref name="next"/>. A sink already past it (its
    /// write landed before a crash and another sink's did not) is sent nothing that would move its
    /// row back, or it would be sent its own events again later: at most a close it lacks.
    /// </summary>
    private Task WriteSlotAsync(SinkSlot slot, StreamState next, bool awaited, CancellationToken cancellationToken)
    {
        if (slot.Row is { } ahead && ahead.Position > next.Position)
        {
            return ahead.ClosedAt == next.ClosedAt
                ? Task.CompletedTask
                : WriteAsync(slot, new StreamFlush(ahead with { ClosedAt = next.ClosedAt }, []) { SinkPosition = ahead.Position, SinkHasRow = true, Awaited = awaited }, cancellationToken);
        }
        return WriteAsync(slot, new StreamFlush(next, _pending.After(slot.Position)) { SinkPosition = slot.Position, SinkHasRow = slot.Row is not null, Awaited = awaited }, cancellationToken);
    }

    private static async Task WriteAsync(SinkSlot slot, StreamFlush flush, CancellationToken cancellationToken)
    {
        await slot.Port.Writer.WriteAsync(flush, cancellationToken);
        slot.Wrote(flush.State);
    }

    /// <summary>Writes what each sink the stream goes to lacks to reach <paramref name="next"/>.</summary>
    /// <param name="awaited">A caller waits for the writes (<see cref="StreamFlush.Awaited"/>); false for a flight.</param>
    private Task[] StartWrites(StreamState current, StreamState next, bool awaited, CancellationToken cancellationToken) =>
        [.. _slots.Where(slot => current.Sinks.HasFlag(slot.Port.Sink)).Select(slot => WriteSlotAsync(slot, next, awaited, cancellationToken))];

    /// <summary>Every sink holds <paramref name="next"/>: the stream moves on, and subscribers hear of it.</summary>
    private void Stored(StreamState current, StreamState next)
    {
        _state = next;
        _failedFlushes = 0;
        if (next.Progress != current.Progress)
            _notifier.Publish(_key, next.Progress);
    }

    /// <summary>
    /// A write failed: its events stay pending for a retry. Subscribers hear now, even with no caller
    /// to tell; storage that is merely behind is no failure, and the stream waits for it instead.
    /// </summary>
    private void Failed(Exception failure)
    {
        if (failure is not StorageBackpressureException)
            _notifier.PublishFailure(_key, failure.Message);
        ScheduleRetry();
    }

    private void ScheduleRetry()
    {
        _failedFlushes++;
        if (_flushTimer is not null)
            return;
        var delay = _options.MaxDelay * Math.Pow(2, Math.Min(_failedFlushes, 10));
        _flushTimer = _context.RegisterTimer(OnFlushTimerAsync, delay < MaxRetryDelay ? delay : MaxRetryDelay);
    }

    private StreamState EnsureOpened() =>
        _state ?? throw new InvalidOperationException($"Stream {_key} was not opened.");

    /// <summary>A flush whose sinks are committing it while the grain takes further calls.</summary>
    /// <param name="Writes">One per sink the stream goes to.</param>
    /// <param name="Current">The stream's state when it started.</param>
    /// <param name="Next">The state the stream is in once every write has succeeded.</param>
    /// <param name="StateDirty">Whether it carries a change of state not yet written (an open or close).</param>
    private sealed record Flight(Task[] Writes, StreamState Current, StreamState Next, bool StateDirty)
    {
        public Task Landed { get; } = Task.WhenAll(Writes);

        /// <summary>Once <see cref="Landed"/>: the first failure, a conflict before any other.</summary>
        public Exception? Failure()
        {
            var failures = Writes.Where(write => !write.IsCompletedSuccessfully)
                .Select(write => write.Exception?.InnerException ?? new OperationCanceledException())
                .ToArray();
            return failures.FirstOrDefault(failure => failure is StreamConflictException) ?? failures.FirstOrDefault();
        }
    }
}
