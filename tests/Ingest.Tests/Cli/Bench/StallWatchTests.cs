using Ingest.Cli.Bench;

namespace Ingest.Tests.Cli.Bench;

/// <summary>The bench's watch for stalls of the machine: real-time threads, one on each core, and what they count.</summary>
public sealed class StallWatchTests
{
    [Fact]
    public void Only_wake_ups_later_than_the_threshold_count_as_stalls()
    {
        var tally = new StallTally();

        tally.Add(0.05);
        tally.Add(StallWatch.StallMilliseconds);
        tally.Add(7.5);
        tally.Add(2.5);

        Assert.Equal(2, tally.Stalls);
        Assert.Equal(10.0, tally.TotalMs, precision: 6);
        Assert.Equal(7.5, tally.MaxMs);
    }

    [Fact]
    public void Its_threads_run_one_on_each_core_under_SCHED_FIFO_where_allowed_and_stop_when_disposed()
    {
        var watch = StallWatch.Start()!;
        List<(int Id, int Policy, string Cpus)> threads;
        try
        {
            // Let every thread set itself up; it then wakes a thousand times a second.
            Thread.Sleep(200);
            threads = Threads(watch.ThreadIds);
            var tally = watch.Take();
            Assert.InRange(tally.Stalls, 0, 200);
            Assert.True(tally.TotalMs >= tally.MaxMs, $"{tally.TotalMs} < {tally.MaxMs}");
            Assert.Equal(watch.RealTime, tally.RealTime);
        }
        finally
        {
            watch.Dispose();
        }

        // One thread per core, pinned to it in order. Policy 1 is SCHED_FIFO, 0 the default; the watch reports which it got.
        Assert.Equal(Enumerable.Range(0, Environment.ProcessorCount).Select(core => core.ToString()), threads.Select(t => t.Cpus));
        Assert.All(threads, t => Assert.Equal(watch.RealTime ? 1 : 0, t.Policy));
        // Disposing joins them; the kernel may take a moment longer to remove the tasks.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (threads.Any(t => Directory.Exists($"/proc/self/task/{t.Id}")) && DateTime.UtcNow < deadline)
            Thread.Sleep(10);
        Assert.DoesNotContain(threads, t => Directory.Exists($"/proc/self/task/{t.Id}"));
    }

    /// <summary>Each thread's scheduling policy and the cores it may run on, from /proc.</summary>
    private static List<(int Id, int Policy, string Cpus)> Threads(IReadOnlyList<int> ids) =>
        [.. ids.Select(id =>
        {
            // The fields after the parenthesised name; the policy is the 41st field of stat.
            var stat = File.ReadAllText($"/proc/self/task/{id}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var cpus = File.ReadAllLines($"/proc/self/task/{id}/status")
                .First(line => line.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)).Split(':')[1].Trim();
            return (id, int.Parse(fields[41 - 3]), cpus);
        })];
}
