using Ingest.Silo.Storage.DuckDb;

namespace Ingest.Tests.Storage.DuckDb;

public sealed class DuckDbOptionsTests
{
    [Fact]
    public void Defaults_are_usable()
    {
        var options = new DuckDbOptions();

        Assert.Equal("data/ingest.duckdb", options.Path);
        Assert.Equal("1GB", options.MemoryLimit);
        Assert.Equal(1, options.Threads);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Each_problem_is_named_with_its_configuration_key()
    {
        var options = new DuckDbOptions { Path = "", MemoryLimit = "", Threads = -2, MaxQueuedBytes = 10, QueryConnections = 0, BackgroundCheckpointBytes = -1, CheckpointNice = 20, ZstdLevel = 23, CatchUpZstdLevel = -8 };

        var errors = options.Validate();

        Assert.Equal(9, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("DuckDb:Path", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("DuckDb:MemoryLimit", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("DuckDb:Threads", StringComparison.Ordinal) && e.Contains("-2"));
        Assert.Contains(errors, e => e.StartsWith("DuckDb:MaxQueuedBytes", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("DuckDb:QueryConnections", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("DuckDb:BackgroundCheckpointBytes", StringComparison.Ordinal) && e.Contains("-1"));
        Assert.Contains(errors, e => e.StartsWith("DuckDb:CheckpointNice", StringComparison.Ordinal) && e.Contains("20"));
        Assert.Contains(errors, e => e.StartsWith("DuckDb:ZstdLevel", StringComparison.Ordinal) && e.Contains("23"));
        Assert.Contains(errors, e => e.StartsWith("DuckDb:CatchUpZstdLevel", StringComparison.Ordinal) && e.Contains("-8"));
    }

    [Fact]
    public void The_commit_clock_needs_a_gather_shorter_than_its_interval()
    {
        Assert.Empty(new DuckDbOptions { CommitInterval = TimeSpan.Zero, CommitGather = TimeSpan.FromSeconds(1) }.Validate());

        var errors = new DuckDbOptions { CommitInterval = TimeSpan.FromMilliseconds(-1), CommitEvents = -1 }.Validate();
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("DuckDb:CommitInterval", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("DuckDb:CommitEvents", StringComparison.Ordinal));

        var gather = Assert.Single(new DuckDbOptions { CommitInterval = TimeSpan.FromMilliseconds(20), CommitGather = TimeSpan.FromMilliseconds(20) }.Validate());
        Assert.StartsWith("DuckDb:CommitGather", gather, StringComparison.Ordinal);
    }
}
