using System.Collections.Concurrent;
using System.Diagnostics;
using Ingest.Grains;
using Ingest.Silo.Storage;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Sink;
using Ingest.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb;

/// <summary>
/// The sink's writer commits once enough events are queued, a flush's caller waits, or the oldest
/// has waited long enough: a delay, or the next slot of the commit clock.
/// </summary>
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

    [Fact]
    public async Task Flushes_wait_for_the_clock_s_next_slot_and_are_written_together()
    {
        // The clock moves only when told, and starts on a slot: flushes at 10, 40 and 70 ms wait
        // for the slot at 100 ms.
        var time = new ManualTimeProvider();
        var writer = new RecordingWriter();
        await using var sink = Sink(writer, commitEvents: 1000, commitInterval: TimeSpan.FromMilliseconds(100), time: time);

        var writes = new List<Task>();
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(i == 0 ? 10 : 30));
            writes.Add(Write(sink, 10));
        }
        await Task.Delay(300);
        Assert.Empty(writer.Groups);
        Assert.All(writes, write => Assert.False(write.IsCompleted));

        time.Advance(TimeSpan.FromMilliseconds(40));
        await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(30, Assert.Single(writer.Groups).Sum(flush => flush.EventCount));
    }

    [Fact]
    public async Task A_flush_its_caller_waits_for_is_written_at_once_with_what_is_queued()
    {
        // The clock never moves, so only the awaited flush can start the commit.
        var writer = new RecordingWriter();
        await using var sink = Sink(writer, commitEvents: 1000, commitInterval: TimeSpan.FromSeconds(10), time: new ManualTimeProvider());

        var held = Write(sink, 5);
        await Task.Delay(200);
        Assert.Empty(writer.Groups);

        var watch = Stopwatch.StartNew();
        var awaited = sink.WriteAsync(Flush(Opened(), Batch(Start, Events(1, 2))) with { Awaited = true }, CancellationToken.None).AsTask();
        await Task.WhenAll(held, awaited).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal(7, Assert.Single(writer.Groups).Sum(flush => flush.EventCount));
    }

    [Fact]
    public async Task Enough_events_are_written_without_waiting_for_the_clock()
    {
        var writer = new RecordingWriter();
        await using var sink = Sink(writer, commitEvents: 20, commitInterval: TimeSpan.FromSeconds(10), time: new ManualTimeProvider());

        await Task.WhenAll(Write(sink, 10), Write(sink, 10)).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(20, Assert.Single(writer.Groups).Sum(flush => flush.EventCount));
    }

    private static DuckDbEventSink Sink(
        RecordingWriter writer, long commitEvents, TimeSpan commitDelay = default, TimeSpan commitInterval = default, TimeProvider? time = null) =>
        new(writer, 64L * 1024 * 1024, NullLogger<DuckDbEventSink>.Instance, time, commitEvents: commitEvents, commitDelay: commitDelay, commitInterval: commitInterval);

    private static Task Write(DuckDbEventSink sink, int events) =>
        sink.WriteAsync(Flush(Opened(), Batch(Start, Events(1, events))), CancellationToken.None).AsTask();

    /// <summary>Records each group it is given; stores nothing.</summary>
    private sealed class RecordingWriter : IFlushGroupWriter
    {
        public ConcurrentQueue<List<StreamFlush>> Groups { get; } = new();

        public (long Events, int Streams) Write(List<FlushPart> parts)
        {
            var flushes = parts.Select(part => part.Pending.Flush).ToList();
            Groups.Enqueue(flushes);
            return (flushes.Sum(flush => flush.EventCount), flushes.Count);
        }

        public void Dispose()
        {
        }
    }
}
