using Ingest.Silo.Storage.DuckDb;
using Ingest.Tests.Fakes;
using Microsoft.Extensions.Logging;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Tests.Storage.DuckDb;

/// <summary>
/// DuckDb:ZstdLevel and DuckDb:CatchUpZstdLevel reach DuckDB's checkpoints. The level is one per
/// process, so these tests run apart from every other: a database opened meanwhile would set it to its own.
/// </summary>
[Collection(ZstdLevelCollection.Name)]
public sealed class ZstdLevelTests
{
    // Wide JSON that varies from row to row, as events do.
    private static string Rows(int first, int end, string table = "events_a") => $"""
        INSERT INTO {table}
        SELECT 'stream-' || (i % 100), i, TIMESTAMPTZ '2026-11-23 00:00:00+00' + INTERVAL (i) MILLISECOND,
               json_object('level', CASE WHEN i % 7 = 0 THEN 'WARN' ELSE 'INFO' END, 'service', 'svc-' || (i % 13),
                           'trace', md5(i::VARCHAR), 'http', json_object('status', 200 + i % 5, 'ms', (i % 997) / 10.0),
                           'user', 'u' || (i * 7919 % 100000), 'msg', 'request ' || i || ' handled')
        FROM range({first}, {end}) AS t(i)
        """;

    // One checkpoint's worth of rows.
    private const int RowCount = 200_000;

    // Commits under a row group (65,536 rows in those tests) go to the WAL, for a checkpoint to compress.
    private const int WalCommit = 10_000;

    private const long CheckpointBytes = 1024 * 1024;

    private const string UsedBlocksQuery = "SELECT used_blocks FROM pragma_database_size() WHERE database_name = current_database()";

    [Fact]
    public async Task Checkpoints_compress_at_the_configured_level()
    {
        Assert.True(ZstdLevel.Available, "libingest_zstd_level.so should be next to the tests: the build compiles it with cc");

        AssertFastestTookMoreBlocks(
            await CheckpointedBlocksAsync(level: 1), await CheckpointedBlocksAsync(level: -7),
            "DuckDB should have asked the library for the level while it checkpointed");
    }

    [Fact]
    public async Task Catch_up_checkpoints_compress_at_their_own_level()
    {
        // Only the catch-up thread's level differs: the file's stays at 1 in both.
        AssertFastestTookMoreBlocks(
            await CaughtUpBlocksAsync(catchUpLevel: 1), await CaughtUpBlocksAsync(catchUpLevel: -7),
            "a catch-up checkpoint should have run");
    }

    [Fact]
    public async Task A_thread_of_its_own_level_leaves_the_others_at_the_process_level()
    {
        await using var kit = StorageTestKit.Create(options => options.ZstdLevel = 1);
        using var connection = kit.Database.Connect();
        var fastest = 0L;
        var set = false;
        var thread = new Thread(() =>
        {
            set = ZstdLevel.TrySetForThisThread(-7);
            connection.Execute(Rows(0, RowCount));
            connection.Execute("CHECKPOINT");
            fastest = UsedBlocks(connection);
        });
        thread.Start();
        thread.Join();
        Assert.True(set, "libingest_zstd_level.so should be next to the tests");
        // The same rows again from this thread, which never set a level of its own, into the other half.
        var before = UsedBlocks(connection);
        connection.Execute(Rows(0, RowCount, "events_b"));
        connection.Execute("CHECKPOINT");
        var fast = UsedBlocks(connection) - before;

        Assert.True(fastest > fast * 1.1, $"level -7 on its own thread took {fastest} blocks, level 1 beside it {fast}");
    }

    [Theory]
    [InlineData(2, -7, true)]
    [InlineData(1, -7, false)]
    [InlineData(2, 1, false)]
    public async Task A_catch_up_level_that_DuckDB_threads_would_not_keep_is_told(int threads, int catchUpLevel, bool warned)
    {
        await using var kit = StorageTestKit.Create(options =>
        {
            options.Threads = threads;
            options.ZstdLevel = 1;
            options.CatchUpZstdLevel = catchUpLevel;
        });
        var logger = new RecordingLogger<DuckDbEventSink>();
        await using (new DuckDbEventSink(kit.Database, logger))
        {
        }

        Assert.Equal(warned, logger.Entries.Any(e => e.Level == LogLevel.Warning && e.Message.Contains("DuckDb:CatchUpZstdLevel", StringComparison.Ordinal)
            && e.Message.Contains($"DuckDb:Threads {threads}", StringComparison.Ordinal)));
    }

    private static async Task<(long Blocks, long CatchUps)> CaughtUpBlocksAsync(int catchUpLevel)
    {
        // Every background checkpoint starts past the catch-up size, so the catch-up thread runs them all.
        await using var kit = StorageTestKit.Create(options =>
        {
            options.ZstdLevel = 1;
            options.CatchUpZstdLevel = catchUpLevel;
            // As the node runs: with a second DuckDB thread, that thread would compress part of
            // each checkpoint at the file's level, and on a busy machine all of it.
            options.Threads = 1;
            options.BackgroundCheckpointBytes = CheckpointBytes;
            options.CheckpointCatchUpBytes = CheckpointBytes;
            options.RowGroupSize = 65_536;
        });
        var wal = kit.DatabasePath + ".wal";
        await using var sink = kit.Sink();
        using (var connection = kit.Database.Connect())
        {
            for (var first = 0; first < RowCount; first += WalCommit)
                connection.Execute(Rows(first, first + WalCommit));
        }
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((WalBytes(wal) >= CheckpointBytes || sink.BackgroundCheckpoints.CatchUps == 0) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.InRange(WalBytes(wal), 0, CheckpointBytes - 1);
        // Counted before the sink closes: DuckDB's checkpoint at the close would run on this thread.
        var blocks = await kit.CountAsync(UsedBlocksQuery);
        return (blocks, sink.BackgroundCheckpoints.CatchUps);
    }

    /// <param name="fast">Blocks at level 1, and how often what the test is about happened.</param>
    /// <param name="fastest">The same at level -7.</param>
    private static void AssertFastestTookMoreBlocks((long Blocks, long Happened) fast, (long Blocks, long Happened) fastest, string happened)
    {
        Assert.True(fast.Happened > 0, $"{happened} at level 1");
        Assert.True(fastest.Happened > 0, $"{happened} at level -7");
        // ZSTD's fastest level gives up ratio for speed: the same rows take more blocks.
        Assert.True(fastest.Blocks > fast.Blocks * 1.1, $"level -7 took {fastest.Blocks} blocks, level 1 {fast.Blocks}");
    }

    private static long UsedBlocks(DuckDbConnection connection)
    {
        using var statement = connection.Prepare(UsedBlocksQuery);
        using var result = statement.Execute();
        using var chunk = result.FetchChunk() ?? throw result.Failure();
        return new DuckDbColumn(chunk, 0).GetInt64(0);
    }

    private static long WalBytes(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private static async Task<(long Blocks, long Calls)> CheckpointedBlocksAsync(int level)
    {
        await using var kit = StorageTestKit.Create(options => options.ZstdLevel = level);
        var calls = ZstdLevel.Calls;
        using (var connection = kit.Database.Connect())
        {
            connection.Execute(Rows(0, RowCount));
            connection.Execute("CHECKPOINT");
        }
        var blocks = await kit.CountAsync(UsedBlocksQuery);
        return (blocks, ZstdLevel.Calls - calls);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ZstdLevelCollection
{
    public const string Name = "ZstdLevel";
}
