using Ingest.Silo.Storage.DuckDb.Native;
using Microsoft.Extensions.Logging;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// Checkpoints the database from a connection of its own, on a thread of its own, whenever the
/// WAL has grown past a size. The sink's commits only append, and DuckDB lets those commit while
/// a checkpoint runs; DuckDB's automatic checkpoint instead runs inside the commit that crosses
/// its threshold, and every other commit waits for it.
/// </summary>
/// <remarks>
/// A checkpoint is refused while a transaction that updates or deletes is open: the sink's
/// compaction takes <see cref="Exclusive"/> too, so the two take turns rather than fail.
/// </remarks>
internal sealed partial class WalCheckpointer : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    private readonly DuckDbConnection _connection;
    private readonly string _walPath;
    private readonly long _thresholdBytes;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;

    public WalCheckpointer(DuckDbDatabase database, long thresholdBytes, ILogger logger, TimeProvider time)
    {
        _connection = database.Connect();
        _walPath = database.Path + ".wal";
        _thresholdBytes = thresholdBytes;
        _logger = logger;
        _time = time;
        _thread = new Thread(Run) { IsBackground = true, Name = "DuckDB checkpointer" };
        _thread.Start();
    }

    /// <summary>Held while checkpointing; whoever updates or deletes rows takes it first.</summary>
    public SemaphoreSlim Exclusive { get; } = new(1, 1);

    /// <summary>Checkpoints done since the start.</summary>
    public long Checkpoints { get; private set; }

    public void Dispose()
    {
        _stopping.Cancel();
        _thread.Join();
        _connection.Dispose();
        _stopping.Dispose();
    }

    private void Run()
    {
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
            var started = _time.GetTimestamp();
            try
            {
                _connection.Execute("CHECKPOINT");
                Checkpoints++;
                var elapsed = _time.GetElapsedTime(started);
                LogCheckpointed(wal, elapsed.TotalMilliseconds);
            }
            catch (DuckDbException exception)
            {
                // Another transaction that DuckDB will not checkpoint beside, or a failure that the
                // automatic checkpoint will meet too; the next poll tries again.
                LogCheckpointFailed(wal, exception.Message);
            }
            finally
            {
                Exclusive.Release();
            }
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Checkpointed a WAL of {WalBytes} bytes in {Milliseconds:F1} ms")]
    private partial void LogCheckpointed(long walBytes, double milliseconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Checkpointing a WAL of {WalBytes} bytes failed; trying again shortly: {Reason}")]
    private partial void LogCheckpointFailed(long walBytes, string reason);
}
