using System.Collections.Concurrent;
using Ingest.Grains;
using Ingest.Silo.Storage;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Sink;
using Ingest.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb;

/// <summary>
/// With DuckDb:CommitWholeRowGroups the writer commits whole row groups and may hold the events
/// after them back: a flush is then stored in two commits, and its stream's row says how far the first got.
/// </summary>
public sealed class WholeRowGroupTests
{
    private const int RowGroup = 2048;
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task A_flush_cut_at_a_row_group_is_stored_in_two_commits_without_a_gap_or_a_duplicate()
    {
        var time = new ManualTimeProvider();
        await using var kit = StorageTestKit.Create(options =>
        {
            options.RowGroupSize = RowGroup;
            options.CommitEvents = RowGroup;
            options.CommitInterval = Interval;
        });
        await using var sink = new DuckDbEventSink(kit.Database, NullLogger<DuckDbEventSink>.Instance, time);
        using var store = kit.Store();

        // A first commit, from which the writer measures how many events come per interval.
        var warmUp = Write(sink, Flush(Opened(), Batch(Start, Events(1, 100))));
        await AdvanceUntilAsync(time, Interval, warmUp);

        // 3,500 events over four or five intervals: enough that the 1,452 left after a row group
        // would make one with what comes in the next interval and a half, so they wait.
        time.Advance(4 * Interval);
        var opened = Opened();
        var flush = Flush(opened, Batch(Start, Events(1, 3500)));
        var cut = Write(sink, flush);
        await WaitForAsync(async () => await kit.CountAsync($"SELECT count(*) FROM events WHERE stream_id = '{opened.Key}'") > 0);

        Assert.False(cut.IsCompleted);
        Assert.Equal(RowGroup, await kit.CountAsync($"SELECT count(*) FROM events WHERE stream_id = '{opened.Key}'"));
        Assert.Equal(RowGroup, await kit.CountAsync($"SELECT max(seq) FROM events WHERE stream_id = '{opened.Key}'"));
        var partly = await store.LoadAsync(opened.Key, CancellationToken.None);
        Assert.NotNull(partly);
        Assert.Equal(((long)RowGroup, (long)RowGroup), (partly.Events, partly.Position));
        Assert.Equal(flush.Batches[0].Ends[RowGroup - 1], partly.Bytes);

        // No more come: after two intervals the rest goes on its own.
        await AdvanceUntilAsync(time, Interval, cut);

        Assert.Equal(3500, await kit.CountAsync($"SELECT count(DISTINCT seq) FROM events WHERE stream_id = '{opened.Key}'"));
        Assert.Equal(3500, await kit.CountAsync($"SELECT count(*) FROM events WHERE stream_id = '{opened.Key}'"));
        var stored = await store.LoadAsync(opened.Key, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal((3500L, 3500L, flush.State.Bytes), (stored.Events, stored.Position, stored.Bytes));
    }

    [Fact]
    public async Task A_stream_whose_flush_failed_after_its_first_part_must_learn_how_far_it_got()
    {
        var time = new ManualTimeProvider();
        var writer = new FailingWriter(failingCall: 3);
        await using var sink = new DuckDbEventSink(
            writer, 64L * 1024 * 1024, NullLogger<DuckDbEventSink>.Instance, time,
            commitEvents: 10, commitInterval: Interval, rowGroup: 10);
        await AdvanceUntilAsync(time, Interval, Write(sink, Flush(Opened(), Batch(Start, Events(1, 5)))));

        // 19 events over four intervals: ten go in a row group, nine wait, and fail when their turn comes.
        time.Advance(4 * Interval);
        var flush = Flush(Opened(), Batch(Start, Events(1, 19))) with { SinkPosition = 0 };
        var cut = Write(sink, flush);
        await Assert.ThrowsAsync<IOException>(() => AdvanceUntilAsync(time, Interval, cut));
        Assert.Equal(new List<(long, long)> { (0, 5), (0, 10), (10, 19) }, writer.Parts);

        // The grain's retry from where it thought the sink stood would store ten events twice.
        var retry = await Assert.ThrowsAsync<StreamConflictException>(() => Write(sink, flush with { Awaited = true }));
        Assert.Equal((10L, 0L), (retry.Stored, retry.Expected));

        // Sent from where the sink stands, the rest goes in.
        var rest = new StreamFlush(flush.State, [flush.Batches[0].After(10)!]) { Awaited = true, SinkPosition = 10, SinkHasRow = true };
        await Write(sink, rest);
        Assert.Equal((0L, 9L), writer.Parts[^1]);
    }

    private static Task Write(DuckDbEventSink sink, StreamFlush flush) => sink.WriteAsync(flush, CancellationToken.None).AsTask();

    /// <summary>Moves the clock an interval at a time, letting the writer see each step, until the task ends.</summary>
    private static async Task AdvanceUntilAsync(ManualTimeProvider time, TimeSpan step, Task task)
    {
        for (var i = 0; i < 200 && !task.IsCompleted; i++)
        {
            time.Advance(step);
            await Task.WhenAny(task, Task.Delay(50));
        }
        await task.WaitAsync(TimeSpan.FromSeconds(1));
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 200 && !await condition(); i++)
            await Task.Delay(25);
        Assert.True(await condition(), "the writer should have committed");
    }

    /// <summary>Stores nothing; one commit fails, as a full disk would fail it.</summary>
    private sealed class FailingWriter(int failingCall) : IFlushGroupWriter
    {
        private int _calls;

        public List<(long From, long To)> Parts { get; } = [];

        public (long Events, int Streams) Write(List<FlushPart> parts)
        {
            foreach (var part in parts)
                Parts.Add((part.From, part.To));
            if (++_calls == failingCall)
                throw new IOException("No space left on device");
            return (parts.Sum(part => part.To - part.From), parts.Count);
        }

        public void Dispose()
        {
        }
    }
}
