using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb.Sink;
using Microsoft.Extensions.Logging;

namespace Ingest.Silo.Storage.DuckDb;

/// <summary>
/// The coalescing writer: flushes from any number of streams queue up while a transaction is
/// being written, and the next transaction takes all of them at once. One dedicated thread owns
/// the writing connection. A flush's task completes only once its transaction has committed.
/// What it takes it may commit in two transactions, or hold partly for the next
/// (<see cref="CommitPlan"/>): a flush cut there completes when its last part has committed.
/// A stream's flushes are committed in the order they were written, so a grain may write the next
/// before the last is durable (<see cref="KeepsStreamOrder"/>).
/// </summary>
public sealed partial class DuckDbEventSink : IEventSink, IAsyncDisposable
{
    // Rough per-row and per-flush costs beyond the payload, so tiny events still count against the bound.
    private const int RowOverhead = 32;

    /// <summary>How often the writer tidies up after its writes (<see cref="IFlushGroupWriter.Compact"/>), at most.</summary>
    internal static readonly TimeSpan DefaultCompactInterval = TimeSpan.FromSeconds(1);

    private readonly object _gate = new();
    private readonly long _maxQueuedBytes;
    private readonly IFlushGroupWriter _writer;
    private readonly TimeSpan _compactInterval;
    private readonly long _commitEvents;
    private readonly long _commitDelay;
    private readonly long _commitPeriod;
    private readonly long _commitOffset;
    private readonly long _rowGroup;
    private readonly bool _holdAwaited;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Task _loop;
    private WalCheckpointer? _checkpointer;
    private List<PendingFlush> _queue = [];
    private List<PendingFlush> _spare = [];
    private readonly List<FlushPart> _parts = [];
    // Flushes, or their ends, that a commit held back for the next; the writer's alone.
    private readonly List<PendingFlush> _held = [];
    private long _heldEvents;
    private long _heldDue;
    // Events queued since the start, and where the writer last measured how many come per commit interval.
    private long _arrived;
    private long _rateMark;
    private long _arrivedAtMark;
    private long _perInterval;
    // Commit intervals over which the arrivals are measured.
    private const int RateWindow = 4;

    // Events are held back when those to come within one and a half commit intervals would
    // likely complete a row group with them (in halves of an interval), and for two intervals at most.
    private const int HoldExpected = 3;
    private const int HoldLimit = 2;
    // Streams whose flush failed, and where the sink holds each: a write that starts before it
    // would store events twice (part of the failed flush had committed), one that follows the
    // failed flush and starts past it would leave a gap. Under _gate.
    private readonly Dictionary<StreamKey, long> _fences = [];
    // Flushes waiting for room, in the order they came. None is queued while any waits, so a
    // stream's flushes are queued in the order they were written. Under _gate.
    private readonly LinkedList<PendingFlush> _waiting = new();
    private long _queuedBytes;
    private long _queuedEvents;
    private long _oldestQueued;
    // A queued flush's caller waits for it: the next write starts at once.
    private bool _awaitedQueued;
    private bool _closing;

    private long _commits;
    private long _failedCommits;
    private long _eventsWritten;
    private long _streamsWritten;
    private int _lastCommitStreams;

    public DuckDbEventSink(DuckDbDatabase database, ILogger<DuckDbEventSink> logger, TimeProvider? time = null)
        : this(database, new FlushGroupWriter(database.Connect()), logger, time)
    {
    }

    private DuckDbEventSink(DuckDbDatabase database, FlushGroupWriter writer, ILogger logger, TimeProvider? time)
        : this(writer, database.Options.MaxQueuedBytes, logger, time,
            commitEvents: database.Options.CommitEvents, commitInterval: database.Options.CommitInterval ?? TimeSpan.Zero,
            commitGather: database.Options.CommitGather,
            rowGroup: database.Options.CommitWholeRowGroups ? database.Options.RowGroupSize : 0)
    {
        if (database.Options.BackgroundCheckpointBytes > 0)
            Volatile.Write(ref _checkpointer, new WalCheckpointer(database, writer.Halves, logger, _time));
    }

    /// <param name="writer">Writes each group; owned by the sink from now on.</param>
    /// <param name="maxQueuedBytes">Payload bytes queued before writers wait.</param>
    /// <param name="compactInterval">The least time between two compactions; default <see cref="DefaultCompactInterval"/>.</param>
    /// <param name="commitEvents">A queue of this many events is written at once; below it a write waits ...</param>
    /// <param name="commitDelay">
    /// ... until the oldest queued flush has waited this long, so each write carries more.
    /// <see cref="long.MaxValue"/> events makes every write wait the delay.
    /// </param>
    /// <param name="commitInterval">
    /// ... or, when above zero, instead until the first tick of the <see cref="FlushClock"/> with this
    /// period, plus <paramref name="commitGather"/>, after the oldest queued flush came (<see cref="DuckDbOptions.CommitInterval"/>).
    /// </param>
    /// <param name="commitGather">How long after each tick the writer waits for that tick's flushes.</param>
    /// <param name="holdAwaited">Whether a flush that its caller waits for (<see cref="StreamFlush.Awaited"/>) waits like any other, rather than being written at once.</param>
    /// <param name="rowGroup">
    /// Rows per row group of the file, when commits are cut at whole row groups (<see cref="CommitPlan"/>);
    /// 0 commits everything taken at once. Events are held for the next commit only on the clock
    /// (<paramref name="commitInterval"/> above zero, with <paramref name="commitEvents"/> above zero).
    /// </param>
    internal DuckDbEventSink(
        IFlushGroupWriter writer, long maxQueuedBytes, ILogger logger, TimeProvider? time = null,
        TimeSpan? compactInterval = null, long commitEvents = 0, TimeSpan commitDelay = default,
        TimeSpan commitInterval = default, TimeSpan commitGather = default, bool holdAwaited = false,
        long rowGroup = 0)
    {
        _rowGroup = rowGroup;
        _holdAwaited = holdAwaited;
        _maxQueuedBytes = maxQueuedBytes;
        _compactInterval = compactInterval ?? DefaultCompactInterval;
        _commitEvents = commitEvents;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _commitDelay = FlushClock.PeriodTicks(commitDelay, _time.TimestampFrequency);
        _commitPeriod = FlushClock.PeriodTicks(commitInterval, _time.TimestampFrequency);
        _commitOffset = FlushClock.PeriodTicks(commitGather, _time.TimestampFrequency);
        _writer = writer;
        _loop = Task.Factory.StartNew(RunWriter, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public DuckDbSinkCounters Counters
    {
        get
        {
            var (checkpoints, catchUps) = BackgroundCheckpoints;
            return new(
                Interlocked.Read(ref _commits),
                Interlocked.Read(ref _failedCommits),
                Interlocked.Read(ref _eventsWritten),
                Interlocked.Read(ref _streamsWritten),
                Volatile.Read(ref _lastCommitStreams),
                Interlocked.Read(ref _queuedBytes),
                checkpoints,
                catchUps);
        }
    }

    /// <summary>The background checkpointer's thread id (Linux), once it runs; 0 without one.</summary>
    internal int CheckpointerThreadId => Volatile.Read(ref _checkpointer)?.ThreadId ?? 0;

    /// <summary>The catch-up checkpoints' thread id (Linux), once it runs; 0 without one.</summary>
    internal int CatchUpThreadId => Volatile.Read(ref _checkpointer)?.CatchUpThreadId ?? 0;

    /// <summary>Background checkpoints so far, and how many of them caught up at the default priority.</summary>
    internal (long Checkpoints, long CatchUps) BackgroundCheckpoints =>
        Volatile.Read(ref _checkpointer) is { } checkpointer ? (checkpointer.Checkpoints, checkpointer.CatchUps) : (0, 0);

    /// <summary>
    /// True: a stream's flushes are committed in the order they were written, and once one has
    /// failed, a later one that follows it (<see cref="StreamFlush.Follows"/>) and starts past where
    /// the sink holds the stream is refused.
    /// </summary>
    public bool KeepsStreamOrder => true;

    /// <summary>
    /// Queues the flush, waiting first while the queue is full or others wait, and completes once
    /// it is committed (or faults with the error that rolled its transaction back). The token is
    /// honoured only while waiting for room: a queued flush cannot be taken back, and reporting it
    /// cancelled would leave the caller unsure whether it became durable.
    /// </summary>
    /// <exception cref="ArgumentException">The batches do not hold the events the flush's state counts, or hold invalid UTF-8.</exception>
    /// <exception cref="ObjectDisposedException">The sink is shutting down.</exception>
    public ValueTask WriteAsync(StreamFlush flush, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flush);
        var pending = new PendingFlush(flush, FlushMeasure.Measure(flush, RowOverhead));
        LinkedListNode<PendingFlush> waiting;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closing, this);
            if (_waiting.Count == 0 && Fits(pending))
            {
                Enqueue(pending);
                return new ValueTask(pending.Task);
            }
            waiting = _waiting.AddLast(pending);
        }
        return WaitForRoomAsync(waiting, cancellationToken);
    }

    /// <summary>Writes everything already queued, then stops the writer and closes its connection.</summary>
    public async ValueTask DisposeAsync()
    {
        PendingFlush[] waiting;
        lock (_gate)
        {
            _closing = true;
            Monitor.PulseAll(_gate);
            waiting = [.. _waiting];
            _waiting.Clear();
        }
        // Writers still waiting for room find the sink closed.
        foreach (var pending in waiting)
            pending.TrySetException(new ObjectDisposedException(GetType().FullName));
        await _loop.ConfigureAwait(false);
        Interlocked.Exchange(ref _checkpointer, null)?.Dispose();
    }

    /// <summary>An empty queue takes any flush, however big, or that flush could never be written.</summary>
    private bool Fits(PendingFlush pending) => _queuedBytes == 0 || _queuedBytes + pending.Bytes <= _maxQueuedBytes;

    /// <summary>Under <see cref="_gate"/>.</summary>
    private void Enqueue(PendingFlush pending)
    {
        _queue.Add(pending);
        _queuedBytes += pending.Bytes;
        var queuedBefore = _queuedEvents;
        _queuedEvents += pending.Events;
        _arrived += pending.Events;
        if (_queue.Count == 1)
            _oldestQueued = _time.GetTimestamp();
        var awaitedBefore = _awaitedQueued;
        _awaitedQueued |= pending.Flush.Awaited && !_holdAwaited;
        // The writer waits for the first flush, and then perhaps for enough events to commit
        // or for a flush whose caller waits.
        if (_queue.Count == 1
            || (queuedBefore + _heldEvents < _commitEvents && _queuedEvents + _heldEvents >= _commitEvents)
            || _awaitedQueued != awaitedBefore)
            Monitor.Pulse(_gate);
    }

    /// <summary>
    /// Waits until the writer queues the flush (<see cref="AdmitWaiting"/>), then until it is
    /// committed. Cancelled while it waits, it is taken out of the line, and the stream is fenced
    /// where the flush started, as if it had failed.
    /// </summary>
    private async ValueTask WaitForRoomAsync(LinkedListNode<PendingFlush> waiting, CancellationToken cancellationToken)
    {
        var pending = waiting.Value;
        using (cancellationToken.Register(() =>
        {
            lock (_gate)
            {
                if (waiting.List is null)
                    return;
                _waiting.Remove(waiting);
                if (pending.Flush.SinkPosition is { } position)
                    _fences.TryAdd(pending.Flush.State.Key, position);
            }
            pending.TrySetCanceled(cancellationToken);
        }))
        {
            await pending.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Queues the flushes waiting for room, in order, while they fit. Under <see cref="_gate"/>.</summary>
    private void AdmitWaiting()
    {
        while (_waiting.First is { } first && Fits(first.Value))
        {
            _waiting.RemoveFirst();
            Enqueue(first.Value);
        }
    }

    private void RunWriter()
    {
        var compacted = _time.GetTimestamp();
        try
        {
            while (TakeGroup(out var mayHold) is { } group)
            {
                WriteGroup(group, mayHold);
                if (_time.GetElapsedTime(compacted) >= _compactInterval && Compact(waitForCheckpoint: false))
                    compacted = _time.GetTimestamp();
                group.Clear();
                _spare = group;
            }
            Compact(waitForCheckpoint: true);
        }
        finally
        {
            _writer.Dispose();
        }
    }

    /// <summary>
    /// What the last commit held back, then everything queued, once there is something and either
    /// enough events to be worth a commit or a flush that has waited long enough; null when closing
    /// and drained.
    /// </summary>
    /// <param name="mayHold">False when a caller waits for a flush of the group, or the sink closes.</param>
    private List<PendingFlush>? TakeGroup(out bool mayHold)
    {
        List<PendingFlush> group;
        long arrived;
        lock (_gate)
        {
            while (true)
            {
                if (_queue.Count == 0 && _held.Count == 0)
                {
                    if (_closing)
                    {
                        mayHold = false;
                        return null;
                    }
                    Monitor.Wait(_gate);
                    continue;
                }
                if (_closing || _queuedEvents + _heldEvents >= _commitEvents || _awaitedQueued)
                    break;
                var due = _queue.Count > 0 ? CommitDue() : long.MaxValue;
                if (_held.Count > 0 && _heldDue < due)
                    due = _heldDue;
                var left = due - _time.GetTimestamp();
                if (left <= 0)
                    break;
                Monitor.Wait(_gate, TimeSpan.FromSeconds((double)left / _time.TimestampFrequency));
            }
            mayHold = !_closing && !_awaitedQueued;
            arrived = _arrived;
            _heldEvents = 0;
            _queuedEvents = 0;
            _awaitedQueued = false;
            group = _queue;
            _queue = _spare;
            _queuedBytes = 0;
            AdmitWaiting();
        }
        MeasureArrivals(arrived);
        if (_held.Count > 0)
        {
            group.InsertRange(0, _held);
            _held.Clear();
        }
        return group;
    }

    /// <summary>
    /// When the queue is written, in the clock's units: the first commit slot after the oldest
    /// queued flush came, so a tick's flushes are written together a little after the tick, and
    /// flushes whose slot passed while the writer was busy are written at once.
    /// </summary>
    private long CommitDue() =>
        _commitPeriod > 0
            ? FlushClock.NextTick(_oldestQueued, _commitPeriod, _commitOffset)
            : _oldestQueued + _commitDelay;

    /// <summary>
    /// Commits the group as its <see cref="CommitPlan"/> says, and holds the rest back for the next
    /// group. When a commit fails, every flush of the group not yet stored whole fails with it.
    /// </summary>
    private void WriteGroup(List<PendingFlush> group, bool mayHold)
    {
        RefuseFenced(group);
        var now = _time.GetTimestamp();
        long held = 0, taken = 0;
        var heldMayWait = true;
        foreach (var pending in group)
        {
            if (pending.HeldAt == 0)
            {
                taken += pending.Unstored;
                continue;
            }
            held += pending.Unstored;
            heldMayWait &= now - pending.HeldAt < HoldLimit * _commitPeriod;
        }
        var expected = _perInterval * HoldExpected / 2;
        var plan = CommitPlan.For(held, heldMayWait, taken, expected, _rowGroup, mayHold && _commitPeriod > 0 && _commitEvents > 0);
        LogPlan(held, heldMayWait, taken, expected, mayHold, plan.Aligned, plan.Then);
        var next = 0;
        try
        {
            if (plan.Aligned > 0)
                next = Commit(group, next, plan.Aligned);
            if (next < group.Count && plan.Then > 0)
                next = Commit(group, next, plan.Then);
        }
        catch (Exception exception)
        {
            Fail(group, next, exception);
            return;
        }
        if (next == group.Count)
            return;
        long heldEvents = 0;
        var firstHeld = long.MaxValue;
        for (var i = next; i < group.Count; i++)
        {
            var pending = group[i];
            if (pending.HeldAt == 0)
                pending.HeldAt = Math.Max(now, 1);
            firstHeld = Math.Min(firstHeld, pending.HeldAt);
            heldEvents += pending.Unstored;
            _held.Add(pending);
        }
        _heldDue = firstHeld + (HoldLimit * _commitPeriod);
        lock (_gate)
            _heldEvents = heldEvents;
    }

    /// <summary>
    /// Measures how many events come in a commit interval, over <see cref="RateWindow"/> intervals at least, for
    /// <see cref="CommitPlan"/> to judge whether held events would make a row group next time.
    /// </summary>
    private void MeasureArrivals(long arrived)
    {
        if (_commitPeriod <= 0)
            return;
        var now = _time.GetTimestamp();
        var elapsed = now - _rateMark;
        // Flushes come in bursts on the clock's ticks: a window of several ticks evens them out.
        if (elapsed < RateWindow * _commitPeriod)
            return;
        // The first has nothing to measure from.
        _perInterval = _rateMark == 0 ? 0 : (long)((double)(arrived - _arrivedAtMark) * _commitPeriod / elapsed);
        _rateMark = now;
        _arrivedAtMark = arrived;
    }

    /// <summary>
    /// Commits the next <paramref name="events"/> events of the group from flush <paramref name="first"/>
    /// on (the flushes holding none after them too), cutting the flush they end in.
    /// </summary>
    /// <returns>The first flush not stored whole.</returns>
    private int Commit(List<PendingFlush> group, int first, long events)
    {
        _parts.Clear();
        var next = first;
        var left = events;
        while (next < group.Count)
        {
            var pending = group[next];
            if (left == 0 && pending.Unstored > 0)
                break;
            var part = FlushPart.Next(pending, left);
            _parts.Add(part);
            left -= part.To - part.From;
            if (!part.Completes)
                break;
            next++;
        }
        var started = _time.GetTimestamp();
        try
        {
            var (written, streams) = _writer.Write(_parts);
            Interlocked.Increment(ref _commits);
            Interlocked.Add(ref _eventsWritten, written);
            Interlocked.Add(ref _streamsWritten, streams);
            Volatile.Write(ref _lastCommitStreams, streams);
            var elapsed = _time.GetElapsedTime(started);
            LogCommitted(written, streams, elapsed.TotalMilliseconds);
            foreach (var part in _parts)
            {
                part.Pending.Stored = part.To;
                part.Pending.StoredState = part.State;
                if (part.Completes)
                    part.Pending.TrySetResult();
            }
        }
        catch (Exception exception)
        {
            // The loop lives on: the next group gets a fresh transaction.
            Interlocked.Increment(ref _failedCommits);
            LogWriteFailed(group.Count - first, exception);
            throw;
        }
        finally
        {
            _parts.Clear();
        }
        return next;
    }

    /// <summary>
    /// Fails the flushes from <paramref name="first"/> on, none of which is stored whole, and fences
    /// each of their streams where the sink holds it (<see cref="RefuseFenced"/>): where the
    /// stream's first of them started, or where its committed part ended.
    /// </summary>
    private void Fail(List<PendingFlush> group, int first, Exception exception)
    {
        HashSet<StreamKey> fenced = [];
        lock (_gate)
        {
            for (var i = first; i < group.Count; i++)
            {
                var pending = group[i];
                var key = pending.Flush.State.Key;
                if (fenced.Add(key) && (pending.StoredState?.Position ?? pending.Flush.SinkPosition) is { } holds)
                    _fences[key] = holds;
            }
        }
        for (var i = first; i < group.Count; i++)
            group[i].TrySetException(exception);
    }

    /// <summary>
    /// Takes out of the group, and fails with <see cref="StreamConflictException"/>, each write of a
    /// stream whose earlier flush failed that starts before where the sink holds the stream (it
    /// would store a committed part twice) or follows the failed flush and starts past it (it would
    /// leave a gap). Its grain then reads where the stream stands and sends only what is missing.
    /// Any other write lifts the fence: one that starts there, one whose grain learned of more
    /// (another node's writes), or one that does not say.
    /// </summary>
    private void RefuseFenced(List<PendingFlush> group)
    {
        lock (_gate)
        {
            if (_fences.Count == 0)
                return;
            group.RemoveAll(pending =>
            {
                var flush = pending.Flush;
                if (pending.HeldAt != 0 || !_fences.TryGetValue(flush.State.Key, out var holds))
                    return false;
                if (flush.SinkPosition is { } expected && (expected < holds || (expected > holds && flush.Follows)))
                {
                    pending.TrySetException(new StreamConflictException(flush.State.Key, holds, expected));
                    return true;
                }
                _fences.Remove(flush.State.Key);
                return false;
            });
        }
    }

    /// <summary>
    /// Between writes: a failure costs nothing written, and the next interval tries again. While a
    /// background checkpoint runs, compaction (which updates and deletes, and DuckDB checkpoints
    /// beside appends only) waits for the next write rather than hold up the writer.
    /// </summary>
    /// <returns>False when it did not run because a checkpoint was running.</returns>
    private bool Compact(bool waitForCheckpoint)
    {
        var rows = _writer.Uncompacted;
        if (rows == 0)
            return true;
        var exclusive = Volatile.Read(ref _checkpointer)?.Exclusive;
        if (exclusive is not null && !exclusive.Wait(waitForCheckpoint ? Timeout.Infinite : 0))
            return false;
        var started = _time.GetTimestamp();
        try
        {
            _writer.Compact();
            var elapsed = _time.GetElapsedTime(started);
            LogCompacted(rows, elapsed.TotalMilliseconds);
        }
        catch (DuckDbException exception)
        {
            LogCompactFailed(exception);
        }
        finally
        {
            exclusive?.Release();
        }
        return true;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Took {Held} held events (may wait again: {MayWait}) and {Taken} new, with {Expected} expected soon (may hold: {MayHold}); committing {Aligned} in whole row groups, then {Then}")]
    private partial void LogPlan(long held, bool mayWait, long taken, long expected, bool mayHold, long aligned, long then);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Compacted {Rows} stream progress rows in {Milliseconds:F1} ms")]
    private partial void LogCompacted(long rows, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Compacting the stream progress rows failed; they stay, and the next interval tries again")]
    private partial void LogCompactFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Committed {Events} events of {Streams} streams in {Milliseconds:F1} ms")]
    private partial void LogCommitted(long events, int streams, double milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Flushes} flushes failed and was rolled back; their writers get the error")]
    private partial void LogWriteFailed(int flushes, Exception exception);
}
