using System.Collections.Concurrent;
using System.Diagnostics;
using Ingest.Grains;
using Ingest.Silo.Storage;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Sink;
using Microsoft.Extensions.Logging.Abstractions;
using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb;

/// <summary>The sink's writer commits once enough events are queued or the oldest has waited long enough.</summary>
public sealed class GroupCommitTests
{
    [Fact]
    public async Task A_commit_waits_for_enough_events_and_then_takes_them_all()
    {
        var writer = new RecordingWriter();
        await using var sink = Sink(writer, commitEvents: 100, commitDelay: TimeSpan.FromSeconds(30));

        var first = Enumerable.Range(0, 5).Select(_ => Write(sink, 10)).ToList();
        await Task.Delay(300);
        Assert.Empty(writer.Groups);
        Assert.All(first, write => Assert.False(write.IsCompleted));

        var second = Enumerable.Range(0, 5).Select(_ => Write(sink, 10)).ToList();
        await Task.WhenAll(first.Concat(second)).WaitAsync(TimeSpan.FromSeconds(10));

        var group = Assert.Single(writer.Groups);
        Assert.Equal(100, group.Sum(flush => flush.EventCount));
    }

    [Fact]
    public async Task A_lone_flush_commits_once_it_has_waited_the_delay()
    {
        var writer = new RecordingWriter();
        await using var sink = Sink(writer, commitEvents: 1000, commitDelay: TimeSpan.FromMilliseconds(300));

        var watch = Stopwatch.StartNew();
        await Write(sink, 1).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
        Assert.Single(writer.Groups);
    }

    [Fact]
    public async Task Closing_commits_what_is_queued_without_waiting()
    {
        var writer = new RecordingWriter();
        Task write;
        var watch = Stopwatch.StartNew();
        await using (var sink = Sink(writer, commitEvents: 1000, commitDelay: TimeSpan.FromSeconds(30)))
            write = Write(sink, 3);

        Assert.True(write.IsCompletedSuccessfully);
        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Equal(3, Assert.Single(writer.Groups).Sum(flush => flush.EventCount));
    }

    private static DuckDbEventSink Sink(RecordingWriter writer, long commitEvents, TimeSpan commitDelay) =>
        new(writer, 64L * 1024 * 1024, NullLogger<DuckDbEventSink>.Instance, commitEvents: commitEvents, commitDelay: commitDelay);

    private static Task Write(DuckDbEventSink sink, int events) =>
        sink.WriteAsync(Flush(Opened(), Batch(Start, Events(1, events))), CancellationToken.None).AsTask();

    /// <summary>Records each group it is given; stores nothing.</summary>
    private sealed class RecordingWriter : IFlushGroupWriter
    {
        public ConcurrentQueue<List<StreamFlush>> Groups { get; } = new();

        public (long Events, int Streams) Write(List<PendingFlush> group)
        {
            var flushes = group.Select(pending => pending.Flush).ToList();
            Groups.Enqueue(flushes);
            return (flushes.Sum(flush => flush.EventCount), flushes.Count);
        }

        public void Dispose()
        {
        }
    }
}
