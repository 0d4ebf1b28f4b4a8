using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>
/// One stream: its metadata, its counts, and the events not yet durable. Events are
/// buffered and flushed to the stream's sinks when a size threshold is reached, when the
/// first event buffered since the last flush has waited <see cref="FlushOptions.MaxDelay"/>, on close and on
/// deactivation (the buffer + timer + flush-on-deactivate pattern of Orleans' GPSTracker
/// PushNotifierGrain). Each sink writes the stream's row in the same transaction as the
/// events it counts, so a sink's counts and events never disagree.
/// </summary>
/// <remarks>
/// <para>
/// A flush started by the timer or by a threshold is a flight: the grain takes further calls while
/// its sinks commit it, and lands it in a turn of its own once they have (<see
/// cref="IGrainContext.WhenDone"/>), so events that arrive meanwhile start their own delay at
/// once rather than after the commit. A stream whose sinks are all exclusive (<see
/// cref="SinkPort.Exclusive"/>) may have a second flight in the air, going on from where the first
/// will leave it (<see cref="StreamFlush.Follows"/>): its events then wait for the timer and one
/// commit, not for the commit before theirs as well, which at high rates is most of an event's
/// wait. Such a sink takes a stream's writes in order and refuses one that follows a failed one,
/// and flights land oldest first; if one fails, the ones after it are landed with it and all their
/// events are written again. Otherwise one flight at a time: a flush that comes due meanwhile waits
/// for it to land, so a stream's writes reach its sinks in order. The stream's state (<see
/// cref="Progress"/>) moves only when a flight lands. Calls that must see their events durable
/// (flush, close, reopen, deactivation) land the flights and write the rest before they answer.
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
    private const int MaxFlights = 2;

    private readonly StreamKey _key;
    private readonly SinkSlot[] _slots;
    private readonly StorageSinks _deployed;
    private readonly IGrainContext _context;
    private readonly IStreamNotifier _notifier;
    private readonly FlushOptions _options;
    // Whether a second flight may take off while one is in the air (see the remarks).
    private readonly bool _pipelined;
    private PendingEvents _pending = new();
    // The events of a landed flight, kept for the next to take off.
    private PendingEvents? _spare;
    // The flights in the air, oldest first; their events precede _pending's.
    private readonly List<Flight> _flights = new(MaxFlights);
    // The timer came due while no further flight could take off: the next one starts when one lands.
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
        FlushOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sinks.Count);
        _key = key;
        _slots = [.. sinks.Select(port => new SinkSlot(port))];
        _deployed = sinks.Aggregate(StorageSinks.None, (all, port) => all | port.Sink);
        _pipelined = sinks.All(port => port.Exclusive);
        _context = context;
        _notifier = notifier;
        _options = options;
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
        var next = state.Position + FlyingEntries() + _pending.Entries + 1;
        var first = batch.FirstSeq == 0 ? next : batch.FirstSeq;
        if (first > next)
            throw new StreamSequenceException(_key, next - 1, first);

        var numbered = batch with { FirstSeq = first };
        _pending.AddDuplicates(numbered.EventsThrough(next - 1));
        if (numbered.After(next - 1) is { } fresh)
            _pending.Add(fresh);

        // The delay counts from the first append after a flush, not from when the events arrived:
        // a caller that waited for a flush to end (a POST reading its body) would otherwise find its
        // next batch overdue, and flush one batch at a time.
        if (_pending.Events >= _options.MaxEvents || _pending.Bytes >= _options.MaxBytes)
        {
            // A caller that outpaces storage waits here for the oldest flight, so a stream holds
            // at most a threshold's worth more than its flights; one whose storage is failing
            // waits for the write itself and hears why.
            if (_flights.Count >= FlightLimit())
                await LandOldestAsync();
            if (_failedFlushes > 0)
                await FlushCoreAsync(CancellationToken.None);
            else
                TakeOff();
        }
        else if (_flushTimer is null && !_pending.IsEmpty)
        {
            _flushTimer = _context.RegisterTimer(OnFlushTimerAsync, _options.MaxDelay);
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
        if (_flights.Count == 0 && _failedFlushes > 0)
            await FlushCoreAsync(CancellationToken.None);
        else
            TakeOff();
    }

    /// <summary>
    /// Starts a flight of everything pending, unless nothing is pending or no further flight may
    /// take off; then it starts when one lands.
    /// </summary>
    private void TakeOff()
    {
        if (_flights.Count >= FlightLimit())
        {
            _flushDue = true;
            return;
        }
        _flushDue = false;
        if (_state is null || (_pending.IsEmpty && !_stateDirty))
            return;
        // A second flight goes on from where the first will leave the stream.
        var current = _flights.Count > 0 ? _flights[^1].Next : _state;
        var next = Advance(current, _pending);
        var writes = StartWrites(current, next, flight: true, follows: _flights.Count > 0, CancellationToken.None);
        var flight = new Flight(writes, current, next, _stateDirty, _pending);
        _pending = _spare ?? new PendingEvents();
        _spare = null;
        _flights.Add(flight);
        _stateDirty = false;
        _flushTimer?.Dispose();
        _flushTimer = null;
        _context.WhenDone(flight.Landed, () => OnFlightLandedAsync(flight));
    }

    /// <summary>
    /// How many flights may be in the air: two for a stream whose sinks are all exclusive (they
    /// take its writes in order and refuse one that follows a failed one), while nothing is
    /// failing; otherwise one.
    /// </summary>
    private int FlightLimit() =>
        _pipelined && _failedFlushes == 0 && !_flights.Exists(flight => Array.Exists(flight.Writes, write => write.IsFaulted || write.IsCanceled))
            ? MaxFlights
            : 1;

    private long FlyingEntries()
    {
        long entries = 0;
        foreach (var flight in _flights)
            entries += flight.Events.Entries;
        return entries;
    }

    private async ValueTask OnFlightLandedAsync(Flight flight)
    {
        // A call that needed the flight landed it already.
        if (!_flights.Contains(flight))
            return;
        // Flights land oldest first: a later one that ended first waits for the one before it.
        Exception? failure = null;
        while (failure is null && _flights.Count > 0 && _flights[0].Landed.IsCompleted)
            failure = await LandOldestAsync();
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

    /// <summary>Waits for every flight in the air and lands them.</summary>
    private async ValueTask LandAsync()
    {
        while (_flights.Count > 0)
            await LandOldestAsync();
    }

    /// <summary>
    /// Waits for the oldest flight and takes it in: the stream moves on to its state. If it failed,
    /// the flights after it are waited for too (a sink refuses those that follow a failed write),
    /// and all their events go back in front of what came since, to be written again with them.
    /// </summary>
    /// <returns>What failed the flight; null if it succeeded.</returns>
    private async ValueTask<Exception?> LandOldestAsync()
    {
        var flight = _flights[0];
        await flight.Landed.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_flights.Count == 0 || _flights[0] != flight)
            return null;
        var failure = flight.Failure();
        if (failure is null)
        {
            _flights.RemoveAt(0);
            flight.Events.Clear();
            _spare = flight.Events;
            if (_flights.Count == 0)
                ForgetSent();
            Stored(flight.Current, flight.Next);
            return null;
        }
        foreach (var later in _flights)
            await later.Landed.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var events = new PendingEvents();
        foreach (var landed in _flights)
        {
            events.AddAll(landed.Events);
            _stateDirty |= landed.StateDirty;
        }
        events.AddAll(_pending);
        _pending = events;
        _flights.Clear();
        ForgetSent();
        if (failure is not StreamConflictException)
            Failed(failure);
        return failure;
    }

    /// <summary>With no flight in the air, each sink stands where its last successful write left it.</summary>
    private void ForgetSent()
    {
        foreach (var slot in _slots)
            slot.Sent = null;
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
            var writes = StartWrites(current, next, flight: false, follows: false, cancellationToken);
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
    /// Sends a sink what it lacks to reach <paramref name="next"/>. A sink already past it (its
    /// write landed before a crash and another sink's did not) is sent nothing that would move its
    /// row back, or it would be sent its own events again later: at most a close it lacks.
    /// </summary>
    /// <param name="flight">
    /// Whether the write is a flight's: the sink is then taken to stand at its state from now on,
    /// where a second flight goes on from (<see cref="SinkSlot.Sent"/>).
    /// </param>
    /// <param name="follows">Whether the sink's previous write is still in the air (<see cref="StreamFlush.Follows"/>).</param>
    private Task WriteSlotAsync(SinkSlot slot, StreamState next, bool flight, bool follows, CancellationToken cancellationToken)
    {
        var sinkState = slot.Sent ?? slot.Row;
        StreamFlush flush;
        if (sinkState is { } ahead && ahead.Position > next.Position)
        {
            if (ahead.ClosedAt == next.ClosedAt)
                return Task.CompletedTask;
            flush = new StreamFlush(ahead with { ClosedAt = next.ClosedAt }, []) { SinkPosition = ahead.Position, SinkHasRow = true, Follows = follows };
        }
        else
        {
            var position = sinkState?.Position ?? 0;
            flush = new StreamFlush(next, _pending.After(position)) { SinkPosition = position, SinkHasRow = sinkState is not null, Follows = follows };
        }
        if (flight)
            slot.Sent = flush.State;
        return WriteAsync(slot, flush, cancellationToken);
    }

    private static async Task WriteAsync(SinkSlot slot, StreamFlush flush, CancellationToken cancellationToken)
    {
        await slot.Port.Writer.WriteAsync(flush, cancellationToken);
        slot.Wrote(flush.State);
    }

    /// <summary>Writes what each sink the stream goes to lacks to reach <paramref name="next"/>.</summary>
    private Task[] StartWrites(StreamState current, StreamState next, bool flight, bool follows, CancellationToken cancellationToken) =>
        [.. _slots.Where(slot => current.Sinks.HasFlag(slot.Port.Sink)).Select(slot => WriteSlotAsync(slot, next, flight, follows, cancellationToken))];

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
    /// <param name="Events">What it writes; they follow the events of the flights before it.</param>
    private sealed record Flight(Task[] Writes, StreamState Current, StreamState Next, bool StateDirty, PendingEvents Events)
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
