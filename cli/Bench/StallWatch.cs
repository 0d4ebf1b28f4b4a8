using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Ingest.Cli.Bench;

/// <summary>
/// Watches for stalls of the machine while the runs go on: one thread per core, under Linux's
/// real-time <c>SCHED_FIFO</c> policy where allowed, sleeps a millisecond at a time and counts how
/// late it wakes. Such a thread takes its core from anything else the moment it wakes, so waking
/// more than <see cref="StallMilliseconds"/> ms late means that the core ran nothing of this
/// machine (the host took it) or stayed in the kernel that long. It runs for microseconds a
/// millisecond. Without real-time priority it waits for a core like every other thread, so its
/// figures then count the load's own queueing too.
/// </summary>
internal sealed partial class StallWatch : IDisposable
{
    public const double StallMilliseconds = 2;

    private const int SchedFifo = 1;
    private static readonly TimeSpan Nap = TimeSpan.FromMilliseconds(1);

    private readonly Thread[] _threads;
    private readonly int[] _threadIds;
    private readonly CancellationTokenSource _stopping = new();
    private StallTally _window = new();
    private int _realTime;

    private StallWatch()
    {
        _threads = new Thread[Environment.ProcessorCount];
        _threadIds = new int[_threads.Length];
        for (var core = 0; core < _threads.Length; core++)
        {
            var onCore = core;
            _threads[core] = new Thread(() => Watch(onCore)) { IsBackground = true, Name = $"stall watch {core}" };
            _threads[core].Start();
        }
    }

    /// <summary>Whether every watching thread runs under <c>SCHED_FIFO</c>, so that its lateness is the machine's alone.</summary>
    public bool RealTime => Volatile.Read(ref _realTime) == _threads.Length;

    /// <summary>The watching threads' ids (Linux), one per core in core order; 0 for one not started yet.</summary>
    public IReadOnlyList<int> ThreadIds => [.. Enumerable.Range(0, _threadIds.Length).Select(core => Volatile.Read(ref _threadIds[core]))];

    /// <summary>Starts watching, on Linux; null elsewhere.</summary>
    public static StallWatch? Start() => OperatingSystem.IsLinux() ? new StallWatch() : null;

    /// <summary>The stalls since the last call (or the start), and a fresh count from now on.</summary>
    public StallTally Take()
    {
        var taken = Interlocked.Exchange(ref _window, new StallTally());
        taken.RealTime = RealTime;
        return taken;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        foreach (var thread in _threads)
            thread.Join();
        _stopping.Dispose();
    }

    private void Watch(int core)
    {
        PinTo(core);
        var priority = 1;
        if (SetScheduler(0, SchedFifo, ref priority) == 0)
            Interlocked.Increment(ref _realTime);
        Volatile.Write(ref _threadIds[core], GetThreadId());
        var napTicks = Stopwatch.Frequency / 1000;
        while (!_stopping.IsCancellationRequested)
        {
            var before = Stopwatch.GetTimestamp();
            Thread.Sleep(Nap);
            var late = Stopwatch.GetTimestamp() - before - napTicks;
            Volatile.Read(ref _window).Add(late * 1000.0 / Stopwatch.Frequency);
        }
    }

    private static void PinTo(int core)
    {
        // cpu_set_t is a bit mask; 128 bytes covers 1024 cores.
        var mask = new ulong[16];
        if (core >= mask.Length * 64)
            return;
        mask[core / 64] = 1UL << (core % 64);
        SetAffinity(0, mask.Length * sizeof(ulong), mask);
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    // The last argument is a struct sched_param, whose only field is the int sched_priority.
    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static partial int SetScheduler(int pid, int policy, ref int priority);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SetAffinity(int pid, nint size, ulong[] mask);
}

/// <summary>What a <see cref="StallWatch"/> counted over a while: wake-ups more than <see cref="StallWatch.StallMilliseconds"/> ms late.</summary>
internal sealed class StallTally
{
    private readonly object _gate = new();

    public int Stalls { get; private set; }

    /// <summary>The lateness of every stall, added up.</summary>
    public double TotalMs { get; private set; }

    public double MaxMs { get; private set; }

    /// <summary>Whether every watching thread ran under <c>SCHED_FIFO</c>, so that the stalls are the machine's alone.</summary>
    public bool RealTime { get; set; }

    public void Add(double lateMs)
    {
        if (lateMs <= StallWatch.StallMilliseconds)
            return;
        lock (_gate)
        {
            Stalls++;
            TotalMs += lateMs;
            MaxMs = Math.Max(MaxMs, lateMs);
        }
    }
}
