using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb.Sink;
using Microsoft.Extensions.Logging;

namespace Ingest.Silo.Storage.DuckDb;

/// <summary>
/// The coalescing writer: flushes from any number of streams queue up while a transaction is
/// being written, and the next transaction takes all of them at once. One dedicated thread owns
/// the writing connection. A flush's task completes only once its transaction has committed.
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
    private readonly bool _holdAwaited;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Task _loop;
    private WalCheckpointer? _checkpointer;
    private List<PendingFlush> _queue = [];
    private List<PendingFlush> _spare = [];
    private long _queuedBytes;
    private long _queuedEvents;
    private long _oldestQueued;
    // A queued flush's caller waits for it: the next write starts at once.
    private bool _awaitedQueued;
    private TaskCompletionSource _spaceFreed = NewSignal();
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
            commitGather: database.Options.CommitGather)
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
    internal DuckDbEventSink(
        IFlushGroupWriter writer, long maxQueuedBytes, ILogger logger, TimeProvider? time = null,
        TimeSpan? compactInterval = null, long commitEvents = 0, TimeSpan commitDelay = default,
        TimeSpan commitInterval = default, TimeSpan commitGather = default, bool holdAwaited = false)
    {
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
    /// Queues the flush, waiting first while the queue is full, and completes once it is committed
    /// (or faults with the error that rolled its transaction back). The token is honoured only
    /// while waiting for room: a queued flush cannot be taken back, and reporting it cancelled
    /// would leave the caller unsure whether it became durable.
    /// </summary>
    /// <exception cref="ArgumentException">The batches do not hold the events the flush's state counts, or hold invalid UTF-8.</exception>
    /// <exception cref="ObjectDisposedException">The sink is shutting down.</exception>
    public ValueTask WriteAsync(StreamFlush flush, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flush);
        var pending = new PendingFlush(flush, FlushMeasure.Measure(flush, RowOverhead));
        return TryEnqueue(pending, out var spaceFreed)
            ? new ValueTask(pending.Task)
            : EnqueueWhenFreeAsync(pending, spaceFreed, cancellationToken);
    }

    /// <summary>Writes everything already queued, then stops the writer and closes its connection.</summary>
    public async ValueTask DisposeAsync()
    {
        TaskCompletionSource spaceFreed;
        lock (_gate)
        {
            _closing = true;
            Monitor.PulseAll(_gate);
            spaceFreed = _spaceFreed;
        }
        // Writers still waiting for room wake up to find the sink closed.
        spaceFreed.TrySetResult();
        await _loop.ConfigureAwait(false);
        Interlocked.Exchange(ref _checkpointer, null)?.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private bool TryEnqueue(PendingFlush pending, out Task spaceFreed)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closing, this);
            // An empty queue takes any flush, however big, or that flush could never be written.
            if (_queuedBytes == 0 || _queuedBytes + pending.Bytes <= _maxQueuedBytes)
            {
                _queue.Add(pending);
                _queuedBytes += pending.Bytes;
                var queuedBefore = _queuedEvents;
                _queuedEvents += pending.Flush.EventCount;
                if (_queue.Count == 1)
                    _oldestQueued = _time.GetTimestamp();
                var awaitedBefore = _awaitedQueued;
                _awaitedQueued |= pending.Flush.Awaited && !_holdAwaited;
                // The writer waits for the first flush, and then perhaps for enough events to commit
                // or for a flush whose caller waits.
                if (_queue.Count == 1 || (queuedBefore < _commitEvents && _queuedEvents >= _commitEvents) || _awaitedQueued != awaitedBefore)
                    Monitor.Pulse(_gate);
                spaceFreed = Task.CompletedTask;
                return true;
            }
            spaceFreed = _spaceFreed.Task;
            return false;
        }
    }

    private async ValueTask EnqueueWhenFreeAsync(PendingFlush pending, Task spaceFreed, CancellationToken cancellationToken)
    {
        do
        {
            await spaceFreed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        while (!TryEnqueue(pending, out spaceFreed));
        await pending.Task.ConfigureAwait(false);
    }

    private void RunWriter()
    {
        var compacted = _time.GetTimestamp();
        try
        {
            while (TakeGroup() is { } group)
            {
                WriteGroup(group);
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
    /// Everything queued, once there is something and either enough events to be worth a commit or
    /// a flush that has waited long enough; null when closing and drained.
    /// </summary>
    private List<PendingFlush>? TakeGroup()
    {
        List<PendingFlush> group;
        TaskCompletionSource spaceFreed;
        lock (_gate)
        {
            while (true)
            {
                while (_queue.Count == 0)
                {
                    if (_closing)
                        return null;
                    Monitor.Wait(_gate);
                }
                if (_closing || _queuedEvents >= _commitEvents || _awaitedQueued)
                    break;
                var left = CommitDue() - _time.GetTimestamp();
                if (left <= 0)
                    break;
                Monitor.Wait(_gate, TimeSpan.FromSeconds((double)left / _time.TimestampFrequency));
            }
            _queuedEvents = 0;
            _awaitedQueued = false;
            group = _queue;
            _queue = _spare;
            _queuedBytes = 0;
            spaceFreed = _spaceFreed;
            _spaceFreed = NewSignal();
        }
        spaceFreed.TrySetResult();
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

    private void WriteGroup(List<PendingFlush> group)
    {
        var started = _time.GetTimestamp();
        try
        {
            var (events, streams) = _writer.Write(group);
            Interlocked.Increment(ref _commits);
            Interlocked.Add(ref _eventsWritten, events);
            Interlocked.Add(ref _streamsWritten, streams);
            Volatile.Write(ref _lastCommitStreams, streams);
            var elapsed = _time.GetElapsedTime(started);
            LogCommitted(events, streams, elapsed.TotalMilliseconds);
            foreach (var pending in group)
                pending.TrySetResult();
        }
        catch (Exception exception)
        {
            // The loop lives on: the next group gets a fresh transaction.
            Interlocked.Increment(ref _failedCommits);
            LogWriteFailed(group.Count, exception);
            foreach (var pending in group)
                pending.TrySetException(exception);
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Compacted {Rows} stream progress rows in {Milliseconds:F1} ms")]
    private partial void LogCompacted(long rows, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Compacting the stream progress rows failed; they stay, and the next interval tries again")]
    private partial void LogCompactFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Committed {Events} events of {Streams} streams in {Milliseconds:F1} ms")]
    private partial void LogCommitted(long events, int streams, double milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Flushes} flushes failed and was rolled back; their writers get the error")]
    private partial void LogWriteFailed(int flushes, Exception exception);
}
