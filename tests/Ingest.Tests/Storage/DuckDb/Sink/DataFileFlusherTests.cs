using Ingest.Silo.Storage.DuckDb.Sink;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Storage.DuckDb.Sink;

/// <summary>The database file flushed while a checkpoint runs, on a real file.</summary>
public sealed class DataFileFlusherTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Flushes_only_between_Begin_and_End()
    {
        using var directory = new TempDirectory();
        var path = directory.File("db.duckdb");
        File.WriteAllBytes(path, new byte[4096]);
        using var flusher = new DataFileFlusher(path);

        await Task.Delay(DataFileFlusher.Interval * 5);
        Assert.Equal(0, flusher.Flushes);

        flusher.Begin();
        var deadline = DateTime.UtcNow + Patience;
        while (flusher.Flushes < 3 && DateTime.UtcNow < deadline)
            await Task.Delay(DataFileFlusher.Interval);
        flusher.End();
        Assert.True(flusher.Flushes >= 3, $"{flusher.Flushes} flushes while a checkpoint ran");

        // One flush may have been under way as it ended; none start after.
        await Task.Delay(DataFileFlusher.Interval * 2);
        var ended = flusher.Flushes;
        await Task.Delay(DataFileFlusher.Interval * 10);
        Assert.Equal(ended, flusher.Flushes);
    }

    [Fact]
    public async Task A_file_that_cannot_be_opened_stops_the_flushing_and_nothing_else()
    {
        using var directory = new TempDirectory();
        using var flusher = new DataFileFlusher(directory.File("missing.duckdb"));

        flusher.Begin();
        await Task.Delay(DataFileFlusher.Interval * 10);
        flusher.End();
        flusher.Begin();
        await Task.Delay(DataFileFlusher.Interval * 5);
        flusher.End();

        Assert.Equal(0, flusher.Flushes);
    }
}
