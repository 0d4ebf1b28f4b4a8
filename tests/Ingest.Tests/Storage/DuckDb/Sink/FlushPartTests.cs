using Ingest.Silo.Storage;
using Ingest.Silo.Storage.DuckDb.Sink;
using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb.Sink;

public sealed class FlushPartTests
{
    [Fact]
    public void A_cut_flush_stands_just_before_its_first_event_left()
    {
        // Seqs 11..: 4 events, then a batch whose entries are event, refused, event, refused, event.
        var before = Opened() with { Events = 8, Bytes = 800, Rejected = 2 };
        var second = Batch(Start, Events(5, 3), rejected: 2) with { Offsets = [0, 2, 4] };
        var flush = Flush(before, Batch(Start, Events(1, 4)), second);
        flush = flush with { State = flush.State with { ClosedAt = Start.AddMinutes(1) } };

        var state = FlushPart.StateThrough(flush, 5);

        // Stored: the 4 events of the first batch and the first of the second (seq 15); the next left is seq 17.
        Assert.Equal(8 + 5, state.Events);
        Assert.Equal(16, state.Position);
        Assert.Equal(2 + 1, state.Rejected);
        Assert.Equal(flush.State.Bytes - second.Bytes + second.Ends[0], state.Bytes);
        Assert.Null(state.ClosedAt);
    }

    [Fact]
    public void Parts_follow_on_from_what_is_stored_and_the_last_takes_the_flush_s_state()
    {
        var flush = Flush(Opened(), Batch(Start, Events(1, 6)));
        var pending = new PendingFlush(flush, 0);

        var first = FlushPart.Next(pending, 4);
        pending.Stored = first.To;
        var second = FlushPart.Next(pending, long.MaxValue);

        Assert.Equal((0L, 4L, false, 4L), (first.From, first.To, first.Completes, first.State.Position));
        Assert.Equal((4L, 6L, true), (second.From, second.To, second.Completes));
        Assert.Same(flush.State, second.State);
    }
}
