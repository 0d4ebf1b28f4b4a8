using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// While a background checkpoint writes the database file, writes what it has written so far to
/// disk every few milliseconds, from a thread of its own, so that the fsync DuckDB ends the
/// checkpoint with finds little left to write.
/// </summary>
/// <remarks>
/// A checkpoint writes its compressed row groups into the page cache for a few hundred
/// milliseconds and then fsyncs them all at once. The writer's commits fsync the WAL on the same
/// disk meanwhile, and each waited behind that burst: on this machine a small fsync beside one
/// 32 MiB fsync waited 22 ms at the median, and 0.3 ms (4 ms at most) when the same writes were
/// flushed a mebibyte at a time as they went.
/// </remarks>
internal sealed partial class DataFileFlusher : IDisposable
{
    /// <summary>How often the file is flushed while a checkpoint runs.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);

    private readonly string _path;
    private readonly ManualResetEventSlim _checkpointing = new(false);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;
    private SafeFileHandle? _file;
    private bool _usable = OperatingSystem.IsLinux();
    private long _flushes;

    public DataFileFlusher(string path)
    {
        _path = path;
        _thread = new Thread(Run) { IsBackground = true, Name = "DuckDB flusher" };
        _thread.Start();
    }

    /// <summary>Flushes done since the start.</summary>
    public long Flushes => Interlocked.Read(ref _flushes);

    /// <summary>A checkpoint starts: flush until <see cref="End"/>.</summary>
    public void Begin()
    {
        if (_usable)
            _checkpointing.Set();
    }

    public void End() => _checkpointing.Reset();

    public void Dispose()
    {
        _stopping.Cancel();
        _checkpointing.Set();
        _thread.Join();
        _file?.Dispose();
        _checkpointing.Dispose();
        _stopping.Dispose();
    }

    private void Run()
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            _checkpointing.Wait();
            if (stopping.WaitHandle.WaitOne(Interval) || !_checkpointing.IsSet)
                continue;
            Flush();
        }
    }

    private void Flush()
    {
        try
        {
            // Any descriptor of a file flushes all of its dirty pages; a read-only one is enough.
            _file ??= File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (FlushData(_file) == 0)
            {
                Interlocked.Increment(ref _flushes);
                return;
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or EntryPointNotFoundException)
        {
        }
        // DuckDB's own fsync still ends each checkpoint; without this, it just has more to write.
        _usable = false;
        _checkpointing.Reset();
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FlushData(SafeFileHandle file);
}
