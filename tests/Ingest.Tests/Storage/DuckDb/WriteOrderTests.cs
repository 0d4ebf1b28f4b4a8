using Ingest.Grains;
using Ingest.Silo.Storage;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Sink;
using Microsoft.Extensions.Logging.Abstractions;
using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb;

/// <summary>
/// The DuckDB sink is exclusive, so a stream may have two flushes in flight: it writes flushes in
/// the order they came and refuses one that follows a failed one of its stream.
/// </summary>
public sealed class WriteOrderTests
{
    [Fact]
    public async Task Flushes_that_wait_for_room_are_written_in_the_order_they_came()
    {
        using var writer = new HoldingWriter();
        // A bound of one byte: the queue takes one flush at a time, and the rest wait for room.
        await using var sink = new DuckDbEventSink(writer, 1, NullLogger<DuckDbEventSink>.Instance);
        var first = Write(sink, Opened());
        await writer.Entered.WaitAsync(TimeSpan.FromSeconds(10));

        var states = Enumerable.Range(0, 40).Select(_ => Opened()).ToList();
        var writes = states.Select(state => Write(sink, state)).ToList();
        writer.Release();
        await Task.WhenAll(writes.Append(first)).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(states.Select(state => state.Key), writer.Written.Skip(1).Select(flush => flush.State.Key));
    }

    [Fact]
    public async Task A_flush_still_waiting_for_room_can_be_taken_back()
    {
        using var writer = new HoldingWriter();
        await using var sink = new DuckDbEventSink(writer, 1, NullLogger<DuckDbEventSink>.Instance);
        var first = Write(sink, Opened());
        await writer.Entered.WaitAsync(TimeSpan.FromSeconds(10));
        var queued = Write(sink, Opened());
        using var cancel = new CancellationTokenSource();
        var waiting = Opened();
        var taken = sink.WriteAsync(Flush(waiting, Batch(Start, Events(1, 1))), cancel.Token).AsTask();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => taken);
        writer.Release();
        await Task.WhenAll(first, queued).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, writer.Written.Count);
        Assert.DoesNotContain(writer.Written, flush => flush.State.Key == waiting.Key);
    }

    [Fact]
    public async Task A_flush_that_follows_a_failed_one_of_its_stream_is_refused_until_the_retry()
    {
        await using var kit = StorageTestKit.Create();
        await using var sink = kit.Sink();
        var opened = Opened();
        // Headers that are not JSON fail the transaction that makes the stream's row.
        var failing = Flush(opened with { HeadersJson = "{not json" }, Batch(Start, Events(1, 5))) with { SinkPosition = 0 };
        var follower = Flush(failing.State with { HeadersJson = opened.HeadersJson }, Batch(Start, Events(6, 3))) with
        {
            SinkPosition = 5, SinkHasRow = true, Follows = true,
        };
        var other = Flush(Opened(), Batch(Start, Events(1, 2))) with { Follows = true };

        await Assert.ThrowsAsync<DuckDbException>(() => sink.WriteAsync(failing, CancellationToken.None).AsTask());
        var refused = await Assert.ThrowsAsync<PrecedingWriteFailedException>(() => sink.WriteAsync(follower, CancellationToken.None).AsTask());
        await sink.WriteAsync(other, CancellationToken.None);

        Assert.Equal(opened.Key, refused.Key);
        Assert.Equal(0, await kit.CountAsync($"SELECT count(*) FROM events WHERE stream_id = '{opened.Key}'"));
        Assert.Equal(2, await kit.CountAsync($"SELECT count(*) FROM events WHERE stream_id = '{other.State.Key}'"));

        // The retry carries both flushes' events from where the file stands and follows nothing.
        var retry = Flush(opened, Batch(Start, Events(1, 8))) with { SinkPosition = 0 };
        var next = Flush(retry.State, Batch(Start, Events(9, 1))) with { SinkPosition = 8, SinkHasRow = true, Follows = true };
        await sink.WriteAsync(retry, CancellationToken.None);
        await sink.WriteAsync(next, CancellationToken.None);

        var seqs = await kit.QueryRowsAsync($"SELECT seq FROM events WHERE stream_id = '{opened.Key}' ORDER BY seq");
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), seqs.Select(row => row.GetProperty("seq").GetInt64()));
        Assert.Equal(9, await kit.CountAsync($"SELECT events FROM streams WHERE id = '{opened.Key}'"));
    }

    private static Task Write(DuckDbEventSink sink, StreamState state) =>
        sink.WriteAsync(Flush(state, Batch(Start, Events(1, 1))), CancellationToken.None).AsTask();

    /// <summary>Records the flushes of each group in order; holds the first group until released.</summary>
    private sealed class HoldingWriter : IFlushGroupWriter
    {
        private readonly ManualResetEventSlim _released = new();
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<StreamFlush> _written = [];

        public Task Entered => _entered.Task;

        public List<StreamFlush> Written
        {
            get
            {
                lock (_written)
                    return [.. _written];
            }
        }

        public void Release() => _released.Set();

        public (long Events, int Streams) Write(List<PendingFlush> group)
        {
            lock (_written)
                _written.AddRange(group.Select(pending => pending.Flush));
            _entered.TrySetResult();
            _released.Wait();
            return (group.Sum(pending => pending.Flush.EventCount), group.Count);
        }

        public void Dispose() => _released.Dispose();
    }
}
