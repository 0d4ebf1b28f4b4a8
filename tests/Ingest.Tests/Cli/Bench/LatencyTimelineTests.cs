using System.Diagnostics;
using Ingest.Cli.Bench;

namespace Ingest.Tests.Cli.Bench;

public sealed class LatencyTimelineTests
{
    private const long Origin = 1_000_000;

    private static long Ms(double ms) => (long)(ms * Stopwatch.Frequency / 1000);

    [Fact]
    public void Events_go_to_the_second_they_were_sent_in_with_that_seconds_percentiles()
    {
        var timeline = new LatencyTimeline(Origin);
        // Second 0: 100 events answered in 10 ms. Second 2: 99 in 20 ms and one in 300 ms. Nothing sent in second 1.
        for (var i = 0; i < 100; i++)
            timeline.AddEvent(Origin + Ms(i * 9.9), Ms(10));
        for (var i = 0; i < 100; i++)
            timeline.AddEvent(Origin + Ms(2000 + i), Ms(i == 50 ? 300 : 20));

        var seconds = timeline.Seconds();

        Assert.Equal([0, 2], seconds.Select(s => s.Second));
        Assert.Equal([100L, 100L], seconds.Select(s => s.Events));
        Assert.Equal(10, seconds[0].Latency.P99Ms, 3);
        Assert.Equal(20, seconds[1].Latency.P50Ms, 3);
        Assert.Equal(20, seconds[1].Latency.P99Ms, 3);
        Assert.Equal(300, seconds[1].Latency.MaxMs, 3);
        // Over the whole run: 200 events, the 198th of which waited 20 ms.
        var overall = timeline.Overall()!;
        Assert.Equal(10, overall.P50Ms, 3);
        Assert.Equal(20, overall.P99Ms, 3);
        Assert.Equal(300, overall.MaxMs, 3);
    }

    [Fact]
    public void A_request_counts_its_events_in_the_second_it_was_sent()
    {
        var timeline = new LatencyTimeline(Origin);
        timeline.AddRequest(Origin + Ms(1500), Ms(40), events: 98);
        timeline.AddRequest(Origin + Ms(1600), Ms(700), events: 2);
        timeline.AddRequest(Origin + Ms(2100), Ms(5), events: 1);

        var seconds = timeline.Seconds();

        Assert.Equal([1, 2], seconds.Select(s => s.Second));
        Assert.Equal([100L, 1L], seconds.Select(s => s.Events));
        // The 99th of the first second's 100 events waited 700 ms.
        Assert.Equal(700, seconds[0].Latency.P99Ms, 3);
        Assert.Equal(40, seconds[0].Latency.P50Ms, 3);
        // Over the whole run the 100th of 101 events is still one of the two that waited 700 ms.
        Assert.Equal(700, timeline.Overall()!.P99Ms, 3);
    }

    [Fact]
    public void Nothing_sent_has_no_seconds()
    {
        var timeline = new LatencyTimeline(Origin);
        Assert.Empty(timeline.Seconds());
        Assert.Null(timeline.Overall());
    }
}
