using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Tests.Storage.DuckDb;

/// <summary>
/// DuckDb:ZstdLevel reaches DuckDB's checkpoints. The level is one per process, so these tests
/// run apart from every other: a database opened meanwhile would set it to its own.
/// </summary>
[Collection(ZstdLevelCollection.Name)]
public sealed class ZstdLevelTests
{
    // Wide JSON that varies from row to row, as events do, in one checkpoint's worth of rows.
    private const string Rows = """
        INSERT INTO events_a
        SELECT 'stream-' || (i % 100), i, TIMESTAMPTZ '2026-11-23 00:00:00+00' + INTERVAL (i) MILLISECOND,
               json_object('level', CASE WHEN i % 7 = 0 THEN 'WARN' ELSE 'INFO' END, 'service', 'svc-' || (i % 13),
                           'trace', md5(i::VARCHAR), 'http', json_object('status', 200 + i % 5, 'ms', (i % 997) / 10.0),
                           'user', 'u' || (i * 7919 % 100000), 'msg', 'request ' || i || ' handled')
        FROM range(200000) AS t(i)
        """;

    [Fact]
    public async Task Checkpoints_compress_at_the_configured_level()
    {
        Assert.True(ZstdLevel.Available, "libingest_zstd_level.so should be next to the tests: the build compiles it with cc");

        var fast = await CheckpointedBlocksAsync(level: 1);
        var fastest = await CheckpointedBlocksAsync(level: -7);

        Assert.True(fast.Calls > 0, "DuckDB should have asked the library for the level while it checkpointed");
        Assert.True(fastest.Calls > 0, "DuckDB should have asked the library for the level while it checkpointed");
        // ZSTD's fastest level gives up ratio for speed: the same rows take more blocks.
        Assert.True(fastest.Blocks > fast.Blocks * 1.1, $"level -7 took {fastest.Blocks} blocks, level 1 {fast.Blocks}");
    }

    private static async Task<(long Blocks, long Calls)> CheckpointedBlocksAsync(int level)
    {
        await using var kit = StorageTestKit.Create(options => options.ZstdLevel = level);
        var calls = ZstdLevel.Calls;
        using (var connection = kit.Database.Connect())
        {
            connection.Execute(Rows);
            connection.Execute("CHECKPOINT");
        }
        var blocks = await kit.CountAsync("SELECT used_blocks FROM pragma_database_size() WHERE database_name = current_database()");
        return (blocks, ZstdLevel.Calls - calls);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ZstdLevelCollection
{
    public const string Name = "ZstdLevel";
}
