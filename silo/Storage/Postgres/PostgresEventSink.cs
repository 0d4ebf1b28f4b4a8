using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.Postgres.Sink;
using Microsoft.Extensions.Logging;

namespace Ingest.Silo.Storage.Postgres;

/// <summary>
/// The coalescing PostgreSQL writer: flushes from any number of streams queue up while a
/// transaction is being written, and the next transaction takes all of them at once. A flush's
/// task completes only once its transaction has committed. While PostgreSQL is unreachable the
/// writer keeps its group and retries it, so callers wait instead of failing; a full queue
/// refuses new flushes at once with <see cref="StorageBackpressureException"/>.
/// </summary>
public sealed partial class PostgresEventSink : IEventSink, IAsyncDisposable
{
    // Rough per-row and per-flush costs beyond the payload, so tiny events still count against the bound.
    private const int RowOverhead = 64;

    private readonly Lock _gate = new();
    private readonly long _maxQueuedBytes;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _endpoint;
    private readonly SemaphoreSlim _queued = new(0);
    private readonly Task _loop;
    private List<PendingFlush> _queue = [];
    private long _queuedBytes;
    private bool _closed;

    private long _commits;
    private long _failedCommits;
    private long _eventsWritten;
    private long _streamsWritten;
    private long _retries;
    private long _alreadyCommitted;

    public PostgresEventSink(PostgresDatabase database, ILogger<PostgresEventSink> logger, TimeProvider? time = null)
    {
        _maxQueuedBytes = database.Options.MaxQueuedBytes;
        _retryMaxDelay = database.Options.RetryMaxDelay;
        _endpoint = database.Endpoint;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _writer = new PostgresGroupWriter(database.DataSource);
        _loop = Task.Run(RunWriterAsync);
    }

    public PostgresSinkCounters Counters => new(
        Interlocked.Read(ref _commits),
        Interlocked.Read(ref _failedCommits),
        Interlocked.Read(ref _eventsWritten),
        Interlocked.Read(ref _streamsWritten),
        Interlocked.Read(ref _retries),
        Interlocked.Read(ref _alreadyCommitted),
        Interlocked.Read(ref _queuedBytes),
        Interlocked.Read(ref _outageStarted) != 0);

    /// <summary>For tests: the writer, to lose a commit's acknowledgement on purpose.</summary>
    internal PostgresGroupWriter Writer => _writer;

    /// <summary>
    /// Queues the flush and completes once it is committed, or faults with the error that refused
    /// it. Never waits for room: a full queue throws at once, so the caller keeps its events and
    /// comes back later. The token is not used: a queued flush cannot be taken back, and reporting
    /// it cancelled would leave the caller unsure whether it became durable.
    /// </summary>
    /// <exception cref="StorageBackpressureException">The queue is full; nothing of the flush was taken.</exception>
    /// <exception cref="ArgumentException">The batches do not hold the events the flush's state counts, or hold invalid UTF-8.</exception>
    /// <exception cref="ObjectDisposedException">The sink is shutting down.</exception>
    public ValueTask WriteAsync(StreamFlush flush, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flush);
        var pending = new PendingFlush(flush, FlushMeasure.Measure(flush, RowOverhead));
        bool first;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            // An empty queue takes any flush, however big, or that flush could never be written.
            if (_queuedBytes > 0 && _queuedBytes + pending.Bytes > _maxQueuedBytes)
                throw Behind(_queuedBytes);
            _queue.Add(pending);
            Interlocked.Add(ref _queuedBytes, pending.Bytes);
            first = _queue.Count == 1;
        }
        if (first)
            _queued.Release();
        return new ValueTask(pending.Task);
    }

    /// <summary>
    /// Writes everything already queued, then stops the writer and returns its connection. If
    /// PostgreSQL is unreachable it does not wait it out: after one more failed attempt, what is
    /// left is faulted with an <see cref="ObjectDisposedException"/> holding the cause.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
            _closed = true;
        // Cuts short a wait between retries, so the last attempt happens now.
        await _closing.CancelAsync().ConfigureAwait(false);
        _queued.Release();
        await _loop.ConfigureAwait(false);
    }

    private StorageBackpressureException Behind(long queuedBytes)
    {
        var unreachable = Interlocked.Read(ref _outageStarted) != 0;
        // While PostgreSQL is away the queue drains no sooner than the next retry; otherwise about
        // one commit from now.
        var retryAfter = unreachable
            ? TimeSpan.FromTicks(Math.Min(Math.Max(Interlocked.Read(ref _retryDelayTicks), TimeSpan.TicksPerSecond), _retryMaxDelay.Ticks))
            : TimeSpan.FromTicks(Math.Clamp(Interlocked.Read(ref _lastCommitTicks) * 2, TimeSpan.TicksPerMillisecond * 50, TimeSpan.TicksPerSecond));
        var state = unreachable ? $"; {_endpoint} is unreachable and writes are being retried" : "";
        return new StorageBackpressureException(
            $"PostgreSQL is behind: {queuedBytes / (1024.0 * 1024):F1} MiB queued, the limit is {_maxQueuedBytes / (1024.0 * 1024):F1} MiB{state}.",
            retryAfter);
    }
}
