using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb;

/// <summary>The sink checkpoints in the background once the WAL passes DuckDb:BackgroundCheckpointBytes.</summary>
public sealed class WalCheckpointerTests
{
    private const long Threshold = 64 * 1024;

    [Fact]
    public async Task Small_commits_are_checkpointed_in_the_background_and_stay_readable()
    {
        // SCHED_IDLE would leave the checkpointer no CPU while the tests beside this one keep both
        // cores busy; the theory below checks that the policy is applied.
        await using var kit = StorageTestKit.Create(options =>
        {
            options.BackgroundCheckpointBytes = Threshold;
            options.CheckpointIdle = false;
        });
        var wal = kit.DatabasePath + ".wal";
        var retired = wal + Ingest.Silo.Storage.DuckDb.Sink.RetiredWal.Suffix;
        File.WriteAllText(retired, "left by a crash");
        await using (var sink = kit.Sink())
        {
            var biggestWal = await WriteSmallCommitsAsync(sink, wal);
            Assert.True(biggestWal > Threshold, $"the test must fill the WAL past {Threshold} bytes; it reached {biggestWal}");

            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (WalBytes(wal) >= Threshold && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            Assert.InRange(WalBytes(wal), 0, Threshold - 1);
            // The WAL never reached the catch-up size (64 MiB by default).
            var (checkpoints, catchUps) = sink.BackgroundCheckpoints;
            Assert.True(checkpoints > 0, "no background checkpoint ran");
            Assert.Equal(0, catchUps);

            Assert.Equal(6000, await kit.CountAsync("SELECT count(*) FROM events"));
            Assert.Equal(10, await kit.CountAsync("SELECT count(*) FROM streams WHERE events = 600"));
            // Each checkpoint moved the writer to the other half first.
            Assert.True(await kit.CountAsync("SELECT count(*) FROM events_a") > 0, "the writer never wrote to events_a");
            Assert.True(await kit.CountAsync("SELECT count(*) FROM events_b") > 0, "no checkpoint moved the writer to events_b");
        }
        // Each checkpoint's old WAL was freed after it, and the leftover went at the start.
        Assert.False(File.Exists(retired), "a second name of the WAL was left behind");
        kit.Reopen();
        Assert.Equal(6000, await kit.CountAsync("SELECT count(DISTINCT (stream_id, seq)) FROM events"));
        Assert.Equal(10, await kit.CountAsync("SELECT count(*) FROM streams WHERE events = 600"));
    }

    [Fact]
    public async Task A_checkpoint_past_the_catch_up_size_runs_at_the_default_priority()
    {
        // Every checkpoint here starts past the catch-up size; the idle thread only hands them over.
        await using var kit = StorageTestKit.Create(options =>
        {
            options.BackgroundCheckpointBytes = Threshold;
            options.CheckpointCatchUpBytes = Threshold;
        });
        var wal = kit.DatabasePath + ".wal";
        await using var sink = kit.Sink();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        int catchUpThread;
        while ((catchUpThread = sink.CatchUpThreadId) == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.NotEqual(0, catchUpThread);
        Assert.Equal((0, 0), Scheduling(catchUpThread));
        int idleThread;
        while ((idleThread = sink.CheckpointerThreadId) == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        (int Nice, int Policy) seen;
        while ((seen = Scheduling(idleThread)) != (19, 5) && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.Equal((19, 5), seen);

        await WriteSmallCommitsAsync(sink, wal);
        while ((WalBytes(wal) >= Threshold || sink.BackgroundCheckpoints.Checkpoints == 0) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.InRange(WalBytes(wal), 0, Threshold - 1);
        var (checkpoints, catchUps) = sink.BackgroundCheckpoints;
        Assert.True(checkpoints > 0, "no background checkpoint ran");
        Assert.Equal(checkpoints, catchUps);
        Assert.Equal(6000, await kit.CountAsync("SELECT count(*) FROM events"));
    }

    [Fact]
    public async Task Without_a_catch_up_size_there_is_no_catch_up_thread()
    {
        await using var kit = StorageTestKit.Create(options =>
        {
            options.BackgroundCheckpointBytes = Threshold;
            options.CheckpointCatchUpBytes = 0;
        });
        await using var sink = kit.Sink();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (sink.CheckpointerThreadId == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.NotEqual(0, sink.CheckpointerThreadId);
        Assert.Equal(0, sink.CatchUpThreadId);
    }

    [Theory]
    [InlineData(19, true)]
    [InlineData(19, false)]
    [InlineData(0, false)]
    public async Task The_checkpointer_thread_runs_at_the_niceness_and_policy_configured(int nice, bool idle)
    {
        await using var kit = StorageTestKit.Create(options =>
        {
            options.BackgroundCheckpointBytes = Threshold;
            options.CheckpointNice = nice;
            options.CheckpointIdle = idle;
        });
        await using var sink = kit.Sink();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        // The thread lowers its own priority as it starts, and says who it is just before.
        int thread;
        while ((thread = sink.CheckpointerThreadId) == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.NotEqual(0, thread);
        // SCHED_IDLE is 5 and SCHED_OTHER 0 (sched.h).
        var policy = idle ? 5 : 0;
        (int Nice, int Policy) seen;
        while ((seen = Scheduling(thread)) != (nice, policy) && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.Equal((nice, policy), seen);
    }

    /// <summary>A thread of this process's niceness and policy: fields 19 and 41 of /proc/self/task/&lt;id&gt;/stat.</summary>
    private static (int Nice, int Policy) Scheduling(int thread)
    {
        var stat = File.ReadAllText($"/proc/self/task/{thread}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[19 - 3], System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(fields[41 - 3], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// 30 rounds of 20 events on each of 10 streams, one commit at a time, each small, so every one
    /// goes to the WAL. Compaction (updates and deletes, once a second) takes turns with the
    /// checkpoints.
    /// </summary>
    /// <returns>The largest the WAL was after a round.</returns>
    private static async Task<long> WriteSmallCommitsAsync(Ingest.Silo.Storage.DuckDb.DuckDbEventSink sink, string wal)
    {
        var streams = Enumerable.Range(0, 10).Select(_ => Opened()).ToArray();
        long biggestWal = 0;
        for (var round = 0; round < 30; round++)
        {
            for (var s = 0; s < streams.Length; s++)
            {
                var flush = Flush(streams[s], Batch(Start, Events(round * 20 + 1, 20))) with { SinkHasRow = round > 0 };
                await sink.WriteAsync(flush, CancellationToken.None);
                streams[s] = flush.State;
            }
            biggestWal = Math.Max(biggestWal, WalBytes(wal));
        }
        return biggestWal;
    }

    private static long WalBytes(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;
}
