using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Tests.Storage.DuckDb.Native;

public sealed class DuckDbRowFunctionTests
{
    [Fact]
    public async Task An_insert_through_the_function_stores_every_row_the_source_writes_across_chunks()
    {
        await using var kit = StorageTestKit.Create();
        using var connection = kit.Database.Connect();
        var (function, insert) = Numbers(connection);
        using (insert)
            function.Run(insert, new CountingSource(5000), 5000);

        var row = (await kit.QueryRowsAsync("SELECT count(*) AS n, sum(n) AS total, min(n) AS lo, max(n) AS hi FROM numbers"))[0];
        Assert.Equal(5000, row.GetProperty("n").GetInt64());
        Assert.Equal(5000L * 4999 / 2, long.Parse(row.GetProperty("total").ToString(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal((0L, 4999L), (row.GetProperty("lo").GetInt64(), row.GetProperty("hi").GetInt64()));
    }

    [Fact]
    public async Task Another_connection_cannot_read_the_rows_without_the_key()
    {
        await using var kit = StorageTestKit.Create();
        using var connection = kit.Database.Connect();
        var (function, insert) = Numbers(connection);
        insert.Dispose();

        using var other = kit.Database.Connect();
        var refused = Assert.Throws<DuckDbException>(() => other.Prepare($"SELECT * FROM {function.Name}({function.Key ^ 1})"));
        Assert.Contains("cannot be queried", refused.Message, StringComparison.Ordinal);

        // With the key but no insert running, there is nothing to read.
        using var statement = other.Prepare($"SELECT count(*) FROM {function.Call}");
        using var result = statement.Execute();
        using var chunk = result.FetchChunk()!;
        Assert.Equal(0, new DuckDbColumn(chunk, 0).GetInt64(0));
    }

    [Fact]
    public async Task A_source_that_throws_fails_the_insert_with_its_own_exception_and_the_connection_carries_on()
    {
        await using var kit = StorageTestKit.Create();
        using var connection = kit.Database.Connect();
        var (function, insert) = Numbers(connection);
        using (insert)
        {
            var thrown = Assert.Throws<InvalidOperationException>(() => function.Run(insert, new ThrowingSource(), 10));
            Assert.Equal("the source broke", thrown.Message);
            function.Run(insert, new CountingSource(3), 3);
        }
        Assert.Equal(3, await kit.CountAsync("SELECT count(*) FROM numbers"));
    }

    [Fact]
    public async Task An_insert_that_took_fewer_rows_than_it_was_given_fails()
    {
        await using var kit = StorageTestKit.Create();
        using var connection = kit.Database.Connect();
        var (function, insert) = Numbers(connection);
        using (insert)
        {
            var failed = Assert.Throws<DuckDbException>(() => function.Run(insert, new CountingSource(10), 20));
            Assert.Contains("took 10 rows of 20", failed.Message, StringComparison.Ordinal);
        }
    }

    private static (DuckDbRowFunction Function, DuckDbPreparedStatement Insert) Numbers(DuckDbConnection connection)
    {
        connection.Execute("CREATE TABLE numbers (n BIGINT NOT NULL)");
        var function = DuckDbRowFunction.Register(connection, "test_numbers", [("n", NativeMethods.LogicalType.Create(DuckDbType.BigInt))]);
        return (function, connection.Prepare($"INSERT INTO numbers SELECT * FROM {function.Call}"));
    }

    /// <summary>0, 1, 2, ... up to the count, a chunk at a time.</summary>
    private sealed unsafe class CountingSource(long count) : IDuckDbChunkSource
    {
        private long _next;

        public int Fill(IntPtr chunk)
        {
            var values = (long*)NativeMethods.Vector.Data(NativeMethods.DataChunk.Vector(chunk, 0));
            var rows = (int)Math.Min(count - _next, (long)NativeMethods.Helpers.VectorSize());
            for (var i = 0; i < rows; i++)
                values[i] = _next++;
            return rows;
        }
    }

    private sealed class ThrowingSource : IDuckDbChunkSource
    {
        public int Fill(IntPtr chunk) => throw new InvalidOperationException("the source broke");
    }
}
