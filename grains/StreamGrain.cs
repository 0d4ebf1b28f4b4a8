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
/// once rather than after the commit. A second flight may take off while the first is out, up to
/// <see cref="FlushOptions.MaxFlights"/>, when every sink of the stream keeps a stream's writes in
/// order (<see cref="IEventSink.KeepsStreamOrder"/>): a sink that holds a flush back for a fuller
/// commit then does not hold up the stream's next one. Otherwise a flush that comes due meanwhile
/// waits for the flight to land, so a stream's writes reach its sinks in order. Flights land in
/// the order they took off, and the stream's state (<see cref="Progress"/>) moves only when one
/// does. Calls that must see their events durable (flush, close, reopen, deactivation) land every
/// flight and write the rest before they answer.
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
    // The flights out, oldest first; their events precede _pending's.
    private readonly List<Flight> _flights = [];
    // A landed flight's emptied buffer, for the next to take off.
    private PendingEvents? _spare;
    // The timer came due while no flight could take off: the next one starts when one lands.
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
        EnsureOpened();
        var next = Tip.Position + _pending.Entries + 1;
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
            // A caller that outpaces storage waits here for the flights before, so a stream holds
            // at most two thresholds' worth; one whose storage is failing waits for the write
            // itself and hears why.
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

    /// <summary>The state the stream reaches once every flight out has landed.</summary>
    private StreamState Tip => _flights.Count > 0 ? _flights[^1].Next : EnsureOpened();

    private async ValueTask OnFlushTimerAsync()
    {
        _flushTimer?.Dispose();
        _flushTimer = null;
        if (_flights.Count == 0 && _failedFlushes > 0)
            await FlushCoreAsync(CancellationToken.None);
        else if (!TakeOff())
            _flushDue = true;
    }

    /// <summary>
    /// Starts a flight of everything pending, unless nothing is pending. One follows the flights out
    /// only if the last of them may be followed (<see cref="Flight.Followable"/>), no more than
    /// <see cref="FlushOptions.MaxFlights"/> are out, and the stream has neither a failed flush to
    /// retry nor a change of state to write.
    /// </summary>
    /// <returns>False when the flights out must land first.</returns>
    private bool TakeOff()
    {
        if (_flights.Count > 0
            && (_flights.Count >= _options.MaxFlights || !_flights[^1].Followable || _failedFlushes > 0 || _stateDirty))
            return false;
        _flushDue = false;
        if (_state is null || (_pending.IsEmpty && !_stateDirty))
            return true;
        var current = Tip;
        var next = Advance(current, _pending);
        var writes = StartWrites(current, next, _flights.Count > 0, awaited: false, CancellationToken.None);
        var flight = new Flight(writes, current, next, _stateDirty, _pending);
        _pending = _spare ?? new();
        _spare = null;
        _flights.Add(flight);
        _stateDirty = false;
        _flushTimer?.Dispose();
        _flushTimer = null;
        _context.WhenDone(flight.Landed, () => OnFlightLandedAsync(flight));
        return true;
    }

    private async ValueTask OnFlightLandedAsync(Flight flight)
    {
        // A call that needed the flight landed it already, and one that followed another lands after it.
        if (_flights.Count == 0 || _flights[0] != flight)
            return;
        Exception? failure = null;
        while (failure is null && _flights.Count > 0 && _flights[0].Landed.IsCompleted)
            failure = await LandFirstAsync();
        if (failure is StreamConflictException)
        {
            // Another node wrote the stream: the flush learns how far and sends what is missing.
            await FlushCoreAsync(CancellationToken.None);
        }
        else if (_flushDue && _failedFlushes == 0)
        {
            TakeOff();
        }
    }

    /// <summary>Waits for every flight out, and lands them.</summary>
    private async ValueTask LandAsync()
    {
        while (_flights.Count > 0)
        {
            await _flights[0].Landed.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await LandFirstAsync();
        }
    }

    /// <summary>
    /// Takes in the oldest flight, which has ended: the stream moves on to its state, or the events
    /// of every flight out go back in front of what came since, to be written again with them.
    /// </summary>
    /// <returns>What failed the flight; null if it succeeded.</returns>
    private async ValueTask<Exception?> LandFirstAsync()
    {
        var flight = _flights[0];
        var failure = flight.Failure();
        if (failure is null)
        {
            _flights.RemoveAt(0);
            Record(flight.Writes, failed: null);
            flight.Events.Clear();
            _spare = flight.Events;
            Stored(flight.Current, flight.Next);
            return null;
        }
        // The flights that followed it fail too, their sinks keeping the stream's writes in order;
        // what each sink took before its first failure is what it holds.
        HashSet<SinkSlot> failed = [];
        var events = flight.Events;
        foreach (var later in _flights)
        {
            await later.Landed.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            Record(later.Writes, failed);
            _stateDirty |= later.StateDirty;
            if (later != flight)
                events.AddAll(later.Events);
        }
        _flights.Clear();
        events.AddAll(_pending);
        _pending.Clear();
        _spare = _pending;
        _pending = events;
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
            var writes = StartWrites(current, next, following: false, awaited: true, cancellationToken);
            var written = Task.WhenAll(writes.Select(write => write.Task));
            await written.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            // Each sink that took the events is sent only what it lacks when they are written again.
            Record(writes, failed: null);
            if (!written.IsCompletedSuccessfully)
            {
                if (attempt < MaxConflictAttempts && writes.Any(write => write.Task.Exception?.InnerException is StreamConflictException))
                {
                    // Another node wrote the stream: learn how far, keep only what is still missing, go again.
                    await RefreshAsync(cancellationToken);
                    continue;
                }
                var failure = written.Exception?.InnerException ?? new TaskCanceledException(written);
                Failed(failure);
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
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
        System.Diagnostics.Debug.Assert(_flights.Count == 0, "A flight's events would be dropped as duplicates of themselves.");
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
    /// Sends a sink what it lacks to reach <paramref name="next"/> from <paramref name="holds"/>. A
    /// sink already past it (its write landed before a crash and another sink's did not) is sent
    /// nothing that would move its row back, or it would be sent its own events again later: at
    /// most a close it lacks.
    /// </summary>
    private SlotWrite WriteSlot(SinkSlot slot, StreamState? holds, StreamState next, bool following, bool awaited, CancellationToken cancellationToken)
    {
        if (holds is { } ahead && ahead.Position > next.Position)
        {
            if (ahead.ClosedAt == next.ClosedAt)
                return new(slot, ahead, Task.CompletedTask, Ahead: true);
            var closed = ahead with { ClosedAt = next.ClosedAt };
            var flush = new StreamFlush(closed, []) { SinkPosition = ahead.Position, SinkHasRow = true, Awaited = awaited };
            return new(slot, closed, SendAsync(slot, flush, cancellationToken), Ahead: true);
        }
        var position = holds?.Position ?? 0;
        var write = new StreamFlush(next, _pending.After(position)) { SinkPosition = position, SinkHasRow = holds is not null, Awaited = awaited, Follows = following };
        return new(slot, next, SendAsync(slot, write, cancellationToken), Ahead: false);
    }

    /// <summary>A sink that refuses a write at once (one that is behind) fails its task, not the other sinks' writes.</summary>
    private static async Task SendAsync(SinkSlot slot, StreamFlush flush, CancellationToken cancellationToken) =>
        await slot.Port.Writer.WriteAsync(flush, cancellationToken);

    /// <summary>Writes what each sink the stream goes to lacks to reach <paramref name="next"/>.</summary>
    /// <param name="following">
    /// The write follows the flights out, so each sink will hold <paramref name="current"/> when it comes to it.
    /// </param>
    /// <param name="awaited">A caller waits for the writes (<see cref="StreamFlush.Awaited"/>); false for a flight.</param>
    private SlotWrite[] StartWrites(StreamState current, StreamState next, bool following, bool awaited, CancellationToken cancellationToken) =>
        [.. _slots.Where(slot => current.Sinks.HasFlag(slot.Port.Sink)).Select(slot => WriteSlot(slot, following ? current : slot.Row, next, following, awaited, cancellationToken))];

    /// <summary>
    /// Notes the rows of the sinks that took their writes, once the writes have ended. A sink in
    /// <paramref name="failed"/> refused an earlier write of the stream, and took none after it; a
    /// sink whose write failed now joins it.
    /// </summary>
    private static void Record(SlotWrite[] writes, HashSet<SinkSlot>? failed)
    {
        foreach (var write in writes)
        {
            if (failed?.Contains(write.Slot) == true)
                continue;
            if (write.Task.IsCompletedSuccessfully)
                write.Slot.Wrote(write.State);
            else
                failed?.Add(write.Slot);
        }
    }

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

    /// <summary>One sink's share of a flush.</summary>
    /// <param name="State">The row the sink holds once the write has succeeded.</param>
    /// <param name="Ahead">The sink was already past the flush, and is sent at most a close it lacks.</param>
    private sealed record SlotWrite(SinkSlot Slot, StreamState State, Task Task, bool Ahead);

    /// <summary>A flush whose sinks are committing it while the grain takes further calls.</summary>
    /// <param name="Writes">One per sink the stream goes to.</param>
    /// <param name="Current">The stream's state when it started: where the flight before it ends.</param>
    /// <param name="Next">The state the stream is in once every write has succeeded.</param>
    /// <param name="StateDirty">Whether it carries a change of state not yet written (an open or close).</param>
    /// <param name="Events">The events it carries, numbered on from <paramref name="Current"/>.</param>
    private sealed record Flight(SlotWrite[] Writes, StreamState Current, StreamState Next, bool StateDirty, PendingEvents Events)
    {
        public Task Landed { get; } = Task.WhenAll(Writes.Select(write => write.Task));

        /// <summary>
        /// Whether another flight may take off before this one lands: every sink it writes keeps a
        /// stream's writes in order, and will hold <see cref="Next"/> once it has taken this one.
        /// </summary>
        public bool Followable { get; } = Writes.All(write => !write.Ahead && write.Slot.Port.Writer.KeepsStreamOrder);

        /// <summary>Once <see cref="Landed"/>: the first failure, a conflict before any other.</summary>
        public Exception? Failure()
        {
            var failures = Writes.Where(write => !write.Task.IsCompletedSuccessfully)
                .Select(write => write.Task.Exception?.InnerException ?? new OperationCanceledException())
                .ToArray();
            return failures.FirstOrDefault(failure => failure is StreamConflictException) ?? failures.FirstOrDefault();
        }
    }
}
