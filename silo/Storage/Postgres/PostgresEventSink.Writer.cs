using Ingest.Silo.Storage.Postgres.Sink;
using Microsoft.Extensions.Logging;

namespace Ingest.Silo.Storage.Postgres;

/// <summary>The writer loop: takes the queue as a group, writes it, and retries it while PostgreSQL is away.</summary>
public sealed partial class PostgresEventSink
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly PostgresGroupWriter _writer;
    private readonly TimeSpan _retryMaxDelay;
    private readonly CancellationTokenSource _closing = new();
    private List<PendingFlush> _spare = [];
    private long _outageStarted;
    private long _retryDelayTicks;
    private long _lastCommitTicks;
    private Exception? _gaveUp;

    private async Task RunWriterAsync()
    {
        try
        {
            while (await TakeGroupAsync().ConfigureAwait(false) is { } group)
            {
                await WriteGroupAsync(group, isolated: false).ConfigureAwait(false);
                group.Clear();
                _spare = group;
            }
        }
        finally
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Everything queued, once there is something; null when closing and drained.</summary>
    private async Task<List<PendingFlush>?> TakeGroupAsync()
    {
        while (true)
        {
            lock (_gate)
            {
                if (_queue.Count > 0)
                {
                    var group = _queue;
                    _queue = _spare;
                    Interlocked.Exchange(ref _queuedBytes, 0);
                    return group;
                }
                if (_closed)
                    return null;
            }
            await _queued.WaitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes the group, however long PostgreSQL takes to come back; completes or faults every
    /// flush in it. A flush refused for good (bad data) is written alone, so it fails by itself.
    /// </summary>
    private async Task WriteGroupAsync(List<PendingFlush> group, bool isolated)
    {
        var delay = FirstRetryDelay;
        var retrying = false;
        while (true)
        {
            if (_gaveUp is { } cause)
            {
                Fault(group, Abandoned(cause));
                return;
            }
            var lastChance = _closing.IsCancellationRequested;
            try
            {
                if (retrying)
                    await SkipCommittedAsync(group).ConfigureAwait(false);
                if (group.Count > 0)
                    await CommitAsync(group).ConfigureAwait(false);
                Recovered();
                return;
            }
            catch (Exception exception) when (PostgresErrors.IsTransient(exception))
            {
                await _writer.ResetAsync(clearPool: true).ConfigureAwait(false);
                Interlocked.Increment(ref _retries);
                OutageBegan(exception);
                if (lastChance)
                {
                    // Shutting down: no waiting PostgreSQL out. The rest of the queue goes the same way.
                    _gaveUp = exception;
                    LogAbandoned(_endpoint, group.Count, exception);
                    Fault(group, Abandoned(exception));
                    return;
                }
                Interlocked.Exchange(ref _retryDelayTicks, delay.Ticks);
                await WaitAsync(delay).ConfigureAwait(false);
                delay = delay * 2 < _retryMaxDelay ? delay * 2 : _retryMaxDelay;
                retrying = true;
            }
            catch (Exception exception)
            {
                await _writer.ResetAsync(clearPool: false).ConfigureAwait(false);
                if (!isolated && group.Count > 1)
                {
                    // One flush's bad data (a \u0000 that jsonb refuses, say) must not fail every
                    // stream that shared its transaction: each is tried alone, rarely and only here.
                    LogIsolating(group.Count, exception);
                    foreach (var pending in group)
                        await WriteGroupAsync([pending], isolated: true).ConfigureAwait(false);
                    return;
                }
                Interlocked.Increment(ref _failedCommits);
                LogWriteFailed(group.Count, exception);
                Fault(group, exception);
                return;
            }
        }
    }

    private async Task CommitAsync(List<PendingFlush> group)
    {
        var started = _time.GetTimestamp();
        var (events, streams) = await _writer.WriteAsync(group, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
        var elapsed = _time.GetElapsedTime(started);
        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _eventsWritten, events);
        Interlocked.Add(ref _streamsWritten, streams);
        Interlocked.Exchange(ref _lastCommitTicks, elapsed.Ticks);
        LogCommitted(events, streams, elapsed.TotalMilliseconds);
        foreach (var pending in group)
            pending.TrySetResult();
    }

    /// <summary>
    /// Completes and leaves out the flushes whose events an earlier attempt committed after all:
    /// when the connection drops during COMMIT, the transaction may or may not have landed.
    /// Flushes without events are kept: writing a row again changes nothing, while skipping one
    /// could lose a close that did not land.
    /// </summary>
    private async Task SkipCommittedAsync(List<PendingFlush> group)
    {
        var stored = await _writer.StoredPositionsAsync(group, CancellationToken.None).ConfigureAwait(false);
        var skipped = group.RemoveAll(pending =>
        {
            var flush = pending.Flush;
            if (flush.EventCount == 0 || !stored.TryGetValue(flush.State.Key.Value, out var position) || position < flush.State.Position)
                return false;
            pending.TrySetResult();
            return true;
        });
        if (skipped > 0)
        {
            Interlocked.Add(ref _alreadyCommitted, skipped);
            LogAlreadyCommitted(skipped);
        }
    }

    private async Task WaitAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _closing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: one more attempt right away.
        }
    }

    private void OutageBegan(Exception exception)
    {
        if (Interlocked.CompareExchange(ref _outageStarted, _time.GetTimestamp(), 0) == 0)
            LogUnreachable(_endpoint, PostgresErrors.Reason(exception), exception);
    }

    private void Recovered()
    {
        var started = Interlocked.Exchange(ref _outageStarted, 0);
        if (started == 0)
            return;
        var seconds = _time.GetElapsedTime(started).TotalSeconds;
        var retries = Interlocked.Read(ref _retries);
        LogRecovered(_endpoint, seconds, retries);
    }

    private ObjectDisposedException Abandoned(Exception cause) =>
        new($"The PostgreSQL sink shut down while {_endpoint} was unreachable ({PostgresErrors.Reason(cause)}); this flush was not written.", cause);

    private static void Fault(List<PendingFlush> group, Exception exception)
    {
        foreach (var pending in group)
            pending.TrySetException(exception);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Committed {Events} events of {Streams} streams in {Milliseconds:F1} ms")]
    private partial void LogCommitted(long events, int streams, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL at {Endpoint} is unreachable ({Reason}); writes wait and are retried until it is back")]
    private partial void LogUnreachable(string endpoint, string reason, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL at {Endpoint} is back after {Seconds:F1} s; writing resumed ({Retries} retries so far)")]
    private partial void LogRecovered(string endpoint, double seconds, long retries);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Flushes} flushes had committed before their connection dropped; not written again")]
    private partial void LogAlreadyCommitted(int flushes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Flushes} flushes together failed; writing each alone so only the bad one fails")]
    private partial void LogIsolating(int flushes, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Flushes} flushes failed and was rolled back; their writers get the error")]
    private partial void LogWriteFailed(int flushes, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Shutting down while PostgreSQL at {Endpoint} is unreachable: {Flushes} flushes and the rest of the queue were not written")]
    private partial void LogAbandoned(string endpoint, int flushes, Exception exception);
}
