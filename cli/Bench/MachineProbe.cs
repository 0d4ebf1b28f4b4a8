using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Ingest.Cli.Bench;

/// <summary>
/// How fast the machine is at the moment, measured with nothing of the bench running, so that a
/// run's figures can be read against it. On a virtual machine the host may take the cores away
/// for a while without the guest counting it as stolen time; then everything takes longer, and a
/// run's tail most of all.
/// </summary>
/// <param name="WorkSeconds">
/// The same fixed work on one thread per core at once (xorshift steps and increments in a
/// 1 MiB table); the slowest thread's wall time. It is only comparable between runs on the same
/// machine and build.
/// </param>
/// <param name="CopyGibPerSecond">
/// One thread per core at once copying a <see cref="CopyBytes"/> buffer into another, over and
/// over: the slowest thread's GiB copied per second. Unlike the fixed work, which stays in a
/// core's cache, it needs the memory, which the host's other guests share.
/// </param>
/// <param name="LostPercent">
/// One thread per core reading the clock in a loop: the share of the time that fell in gaps over
/// <see cref="GapMicroseconds"/> µs, when the core ran something else or the host ran nothing of the guest's.
/// The worst thread's.
/// </param>
/// <param name="FsyncP50Ms">64 KiB appended to a file, then <c>fsync</c>: the median wait of <see cref="Fsyncs"/>.</param>
/// <param name="FsyncP99Ms">Their 99th percentile.</param>
internal sealed record MachineProbe(double WorkSeconds, double CopyGibPerSecond, double LostPercent, double FsyncP50Ms, double FsyncP99Ms)
{
    public const int CopyBytes = 64 * 1024 * 1024;
    private const int Copies = 8;

    public const int Fsyncs = 100;

    private const long WorkSteps = 200_000_000;
    private const int TableEntries = 256 * 1024;

    private const int GapMicroseconds = 20;
    private static readonly long GapTicks = Stopwatch.Frequency * GapMicroseconds / 1_000_000;
    private static readonly TimeSpan ClockLoop = TimeSpan.FromSeconds(1);

    /// <param name="directory">Where the fsync probe writes its file, on the disk the node uses if local.</param>
    public static MachineProbe Run(string directory)
    {
        var work = OnEveryCore(Work);
        var copy = OnEveryCore(Copy);
        var lost = OnEveryCore(Lost);
        var (p50, p99) = Fsync(directory);
        return new MachineProbe(work.Max(), copy.Min(), lost.Max(), p50, p99);
    }

    public override string ToString() =>
        FormattableString.Invariant(
            $"fixed work {WorkSeconds:F3} s on each core at once, memory copied at {CopyGibPerSecond:F1} GiB/s a core, {LostPercent:F1}% of a core's time lost in gaps over {GapMicroseconds} µs, fsync of 64 KiB p50 {FsyncP50Ms:F2} ms p99 {FsyncP99Ms:F2} ms");

    /// <returns>Each thread's figure, one thread per core, all running at once.</returns>
    private static double[] OnEveryCore(Func<double> measure)
    {
        var results = new double[Environment.ProcessorCount];
        var workers = Enumerable.Range(0, results.Length)
            .Select(i => new Thread(() => results[i] = measure()) { IsBackground = true, Name = "machine probe" })
            .ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        return results;
    }

    // Optimised at once: the first, unoptimised code would be timed instead of the machine.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Work()
    {
        var table = new uint[TableEntries];
        var x = 88172645463325252UL;
        var watch = Stopwatch.StartNew();
        for (long i = 0; i < WorkSteps; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            table[(int)(x & (TableEntries - 1))]++;
        }
        return watch.Elapsed.TotalSeconds;
    }

    private static double Copy()
    {
        var from = new byte[CopyBytes];
        var to = new byte[CopyBytes];
        // Touched first, so that the copies time the memory rather than the kernel's fresh pages.
        from.AsSpan().Fill(1);
        to.AsSpan().Fill(2);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < Copies; i++)
            from.AsSpan().CopyTo(to);
        return (double)Copies * CopyBytes / (1024.0 * 1024 * 1024) / watch.Elapsed.TotalSeconds;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Lost()
    {
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(ClockLoop.TotalSeconds * Stopwatch.Frequency);
        var previous = start;
        long lost = 0;
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (now - previous > GapTicks)
                lost += now - previous;
            previous = now;
            if (now >= end)
                break;
        }
        return 100.0 * lost / (previous - start);
    }

    private static (double P50, double P99) Fsync(string directory)
    {
        var path = Path.Combine(directory, $"machine-probe-{Guid.NewGuid():N}");
        var block = new byte[64 * 1024];
        var waits = new double[Fsyncs];
        try
        {
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
            for (var i = 0; i < Fsyncs; i++)
            {
                file.Write(block);
                var started = Stopwatch.GetTimestamp();
                file.Flush(flushToDisk: true);
                waits[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }
        finally
        {
            File.Delete(path);
        }
        Array.Sort(waits);
        return (waits[Fsyncs / 2], waits[Fsyncs * 99 / 100]);
    }
}
