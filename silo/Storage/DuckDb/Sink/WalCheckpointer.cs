using System.Runtime.InteropServices;
using Ingest.Silo.Storage.DuckDb.Native;
using Microsoft.Extensions.Logging;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// Checkpoints the database from a connection of its own, on a thread of its own, whenever the
/// WAL has grown past a size, so that the writer's commits go on while it runs. DuckDB's automatic
/// checkpoint instead runs inside the commit that crosses its threshold, and every other commit
/// waits for it.
/// </summary>
/// <remarks>
/// <para>
/// DuckDB (1.5) lets commits that only append run beside a checkpoint on two conditions, and each
/// checkpoint sets both up:
/// </para>
/// <list type="bullet">
/// <item>The checkpoint must be a concurrent one, which DuckDB picks only when a transaction older
/// than the latest commit is open. A third connection holds a read transaction open, from before
/// the writer's next commit until the checkpoint ends. Without it, every commit waits for the whole
/// checkpoint.</item>
/// <item>An insert still waits while the checkpoint writes the table it goes into. So the writer is
/// first moved to the other half of the events (<see cref="EventHalves"/>), and the checkpoint
/// starts once a commit has gone there.</item>
/// </list>
/// <para>
/// At its end a checkpoint replaces the WAL it emptied, holding the WAL lock that every commit
/// needs; on ext4 freeing a 32 MiB file takes 10–30 ms, and every stream's acknowledgement waited
/// for it. So the old WAL keeps a second name through the checkpoint (<see cref="RetiredWal"/>):
/// DuckDB's replace only drops a name, and this thread frees the file afterwards, outside the lock.
/// </para>
/// <para>
/// The checkpoint's writes reach the disk as it goes (<see cref="DataFileFlusher"/>), rather than
/// all in the fsync at its end, which every commit's own fsync of the WAL queued behind.
/// </para>
/// <para>
/// A checkpoint is refused while a transaction that updates or deletes is open: the sink's
/// compaction takes <see cref="Exclusive"/> too, so the two take turns rather than fail.
/// </para>
/// <para>
/// The thread runs at a lower priority (<see cref="DuckDbOptions.CheckpointNice"/>): a checkpoint
/// compresses for a few hundred milliseconds, and at the same priority it took a core from the
/// sockets and the writer each time, which the acknowledgements of every stream waited for. By
/// default it also runs under <c>SCHED_IDLE</c> (<see cref="DuckDbOptions.CheckpointIdle"/>): at
/// nice 19 alone the kernel still ran it on one core while the writer waited for the other.
/// </para>
/// <para>
/// Idle CPU runs out when the node is near its limit for long. Then the WAL grows faster than
/// that thread checkpoints it, each checkpoint is longer than the last, and commits stall at their
/// ends: at 570,000 WebSocket events/s for 14 s the WAL reached 263 MB and a checkpoint 2.1 s. So a
/// checkpoint that starts with the WAL past <see cref="DuckDbOptions.CheckpointCatchUpBytes"/> runs on
/// a second thread at the default priority (a thread cannot raise its own priority again without
/// privileges), which keeps the WAL within a few checkpoints' worth. That thread compresses at
/// <see cref="DuckDbOptions.CatchUpZstdLevel"/>, faster than the rest, so that it takes less of the
/// cores the writer and the sockets are short of.
/// </para>
/// </remarks>
internal sealed partial class WalCheckpointer : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    // How long a checkpoint waits for the writer's first commit into the other half; a writer with
    // nothing to commit has nothing to hold up either.
    private static readonly TimeSpan SwitchWait = TimeSpan.FromMilliseconds(250);

    // setpriority(2)'s which: a process, or on Linux one thread by its id.
    private const int PrioProcess = 0;

    // sched_setscheduler(2)'s policy for work that runs only when nothing else wants the core.
    private const int SchedIdle = 5;

    private readonly DuckDbConnection _connection;
    private readonly DuckDbConnection _snapshot;
    private readonly EventHalves _halves;
    private readonly string _walPath;
    private readonly RetiredWal _retiredWal;
    private readonly DataFileFlusher _flusher;
    private readonly long _thresholdBytes;
    private readonly long _catchUpBytes;
    private readonly int _nice;
    private readonly bool _idle;
    private readonly int _catchUpZstdLevel;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;
    private readonly Thread? _catchUpThread;
    private readonly AutoResetEvent _catchUpAsked = new(false);
    private readonly AutoResetEvent _catchUpDone = new(false);
    private long _catchUpWal;
    private int _threadId;
    private int _catchUpThreadId;
    private long _checkpoints;
    private long _catchUps;

    /// <param name="database">Whose options say when and how to checkpoint: <see cref="DuckDbOptions.BackgroundCheckpointBytes"/> (above 0),
    /// <see cref="DuckDbOptions.CheckpointCatchUpBytes"/>, <see cref="DuckDbOptions.CheckpointNice"/>,
    /// <see cref="DuckDbOptions.CheckpointIdle"/> and <see cref="DuckDbOptions.CatchUpZstdLevel"/>.</param>
    public WalCheckpointer(DuckDbDatabase database, EventHalves halves, ILogger logger, TimeProvider time)
    {
        _connection = database.Connect();
        _snapshot = database.Connect();
        _halves = halves;
        _walPath = database.Path + ".wal";
        _retiredWal = new RetiredWal(_walPath);
        _flusher = new DataFileFlusher(database.Path);
        var options = database.Options;
        _thresholdBytes = options.BackgroundCheckpointBytes;
        _catchUpBytes = options.CheckpointCatchUpBytes;
        _nice = options.CheckpointNice;
        _idle = options.CheckpointIdle;
        _catchUpZstdLevel = options.CatchUpZstdLevel;
        _logger = logger;
        _time = time;
        _thread = new Thread(Run) { IsBackground = true, Name = "DuckDB checkpointer" };
        // DuckDB hands a checkpoint's row groups to its own threads when it has more than one,
        // and those compress at the file's level.
        if (_catchUpBytes > 0 && _catchUpZstdLevel != options.ZstdLevel && options.Threads != 1)
            LogCatchUpLevelShared(_catchUpZstdLevel, options.Threads, options.ZstdLevel);
        // Started from here, it keeps this thread's priority rather than the lowered one.
        if (_catchUpBytes > 0)
        {
            _catchUpThread = new Thread(RunCatchUps) { IsBackground = true, Name = "DuckDB catch-up checkpointer" };
            _catchUpThread.Start();
        }
        _thread.Start();
    }

    /// <summary>Held while checkpointing; whoever updates or deletes rows takes it first.</summary>
    public SemaphoreSlim Exclusive { get; } = new(1, 1);

    /// <summary>The checkpointing thread's id (Linux), once it has started; 0 before, or elsewhere.</summary>
    public int ThreadId => Volatile.Read(ref _threadId);

    /// <summary>The catch-up thread's id (Linux), once it has started; 0 before, without one, or elsewhere.</summary>
    public int CatchUpThreadId => Volatile.Read(ref _catchUpThreadId);

    /// <summary>Checkpoints done since the start.</summary>
    public long Checkpoints => Interlocked.Read(ref _checkpoints);

    /// <summary>Of <see cref="Checkpoints"/>, those run at the default priority because the WAL had grown past <see cref="DuckDbOptions.CheckpointCatchUpBytes"/>.</summary>
    public long CatchUps => Interlocked.Read(ref _catchUps);

    public void Dispose()
    {
        _stopping.Cancel();
        _thread.Join();
        _catchUpThread?.Join();
        _catchUpAsked.Dispose();
        _catchUpDone.Dispose();
        _flusher.Dispose();
        _connection.Dispose();
        _snapshot.Dispose();
        _stopping.Dispose();
    }

    private void Run()
    {
        StandBack();
        while (!_stopping.Token.WaitHandle.WaitOne(Poll))
        {
            var wal = WalBytes();
            if (wal < _thresholdBytes)
                continue;
            try
            {
                Exclusive.Wait(_stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                if (_catchUpThread is not null && wal >= _catchUpBytes)
                {
                    // The catch-up thread finishes what it is given, also when stopping; only one
                    // that has already stopped leaves a request unserved.
                    Volatile.Write(ref _catchUpWal, wal);
                    _catchUpAsked.Set();
                    while (!_catchUpDone.WaitOne(Poll))
                    {
                        if (!_catchUpThread.IsAlive)
                            break;
                    }
                }
                else
                {
                    Checkpoint(wal, catchUp: false);
                }
            }
            finally
            {
                Exclusive.Release();
            }
        }
    }

    private void RunCatchUps()
    {
        if (OperatingSystem.IsLinux())
            Volatile.Write(ref _catchUpThreadId, GetThreadId());
        // Without the library DuckDB compresses at its own level, which DuckDbDatabase already warned of.
        ZstdLevel.TrySetForThisThread(_catchUpZstdLevel);
        WaitHandle[] waits = [_catchUpAsked, _stopping.Token.WaitHandle];
        // A request comes first in WaitAny's order, so one made before stopping is still served.
        while (WaitHandle.WaitAny(waits) == 0)
        {
            try
            {
                Checkpoint(Volatile.Read(ref _catchUpWal), catchUp: true);
            }
            finally
            {
                _catchUpDone.Set();
            }
        }
    }

    /// <summary>One checkpoint, with <see cref="Exclusive"/> held by the caller.</summary>
    private void Checkpoint(long wal, bool catchUp)
    {
        var started = _time.GetTimestamp();
        try
        {
            // Binding a table starts the read transaction; it must begin before the commit waited for.
            _snapshot.Execute("BEGIN TRANSACTION");
            _snapshot.Execute($"SELECT 1 FROM {DuckDbSchema.ProgressTable} LIMIT 0");
            var moved = _halves.WaitForCommit(_halves.Switch(), SwitchWait);
            var switched = _time.GetElapsedTime(started);
            if (_retiredWal.Keep() is { } reason)
                LogKeepWalFailed(reason);
            _flusher.Begin();
            try
            {
                _connection.Execute("CHECKPOINT");
            }
            finally
            {
                _flusher.End();
            }
            Interlocked.Increment(ref _checkpoints);
            if (catchUp)
                Interlocked.Increment(ref _catchUps);
            var elapsed = _time.GetElapsedTime(started);
            LogCheckpointed(wal, elapsed.TotalMilliseconds, switched.TotalMilliseconds, moved, catchUp);
        }
        catch (DuckDbException exception)
        {
            // Another transaction that DuckDB will not checkpoint beside, or a failure that the
            // automatic checkpoint will meet too; the next poll tries again.
            LogCheckpointFailed(wal, exception.Message);
        }
        finally
        {
            EndSnapshot();
            _retiredWal.Free();
        }
    }

    /// <summary>Lowers this thread's priority; on Linux a thread is a task of its own, which setpriority(2) takes by its id.</summary>
    private void StandBack()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var id = GetThreadId();
        Volatile.Write(ref _threadId, id);
        if (_nice != 0 && SetPriority(PrioProcess, id, _nice) != 0)
            LogNiceFailed(_nice, Marshal.GetLastPInvokeErrorMessage());
        // Any thread may move itself to SCHED_IDLE; the priority it takes must be 0.
        var none = 0;
        if (_idle && SetScheduler(id, SchedIdle, ref none) != 0)
            LogIdleFailed(Marshal.GetLastPInvokeErrorMessage());
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    // The last argument is a struct sched_param, whose only field is the int sched_priority.
    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static partial int SetScheduler(int pid, int policy, ref int priority);

    private void EndSnapshot()
    {
        try
        {
            _snapshot.Execute("ROLLBACK");
        }
        catch (DuckDbException)
        {
            // BEGIN failed, so there is no transaction to end.
        }
    }

    private long WalBytes()
    {
        try
        {
            return new FileInfo(_walPath).Length;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not lower the checkpointer's priority to nice {Nice}; it runs at the default: {Reason}")]
    private partial void LogNiceFailed(int nice, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not run the checkpointer under SCHED_IDLE; it keeps its niceness: {Reason}")]
    private partial void LogIdleFailed(string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Checkpointed a WAL of {WalBytes} bytes in {Milliseconds:F1} ms; the writer moved halves in {SwitchMilliseconds:F1} ms: {Moved}; catching up at the default priority: {CatchUp}")]
    private partial void LogCheckpointed(long walBytes, double milliseconds, double switchMilliseconds, bool moved, bool catchUp);

    [LoggerMessage(Level = LogLevel.Warning, Message = "DuckDb:CatchUpZstdLevel {Level} covers only what the catch-up thread compresses itself: with DuckDb:Threads {Threads} (0 is one per core), DuckDB's own threads take part of each checkpoint at DuckDb:ZstdLevel {FileLevel}")]
    private partial void LogCatchUpLevelShared(int level, int threads, int fileLevel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not give the WAL a second name for checkpoints, so DuckDB frees it while commits wait; not trying again: {Reason}")]
    private partial void LogKeepWalFailed(string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Checkpointing a WAL of {WalBytes} bytes failed; trying again shortly: {Reason}")]
    private partial void LogCheckpointFailed(long walBytes, string reason);
}
