using System.Diagnostics;
using Ingest.Cli.Bench;

namespace Ingest.Tests.Cli.Bench;

public sealed class LatencySummaryTests
{
    private static long Ms(double ms) => (long)(ms * Stopwatch.Frequency / 1000);

    [Fact]
    public void Percentiles_over_events_are_the_nearest_rank()
    {
        var ticks = Enumerable.Range(1, 1000).Reverse().Select(i => Ms(i)).ToArray();

        var summary = LatencySummary.FromEvents(ticks)!;

        Assert.Equal(500, summary.P50Ms, 3);
        Assert.Equal(990, summary.P99Ms, 3);
        Assert.Equal(1000, summary.MaxMs, 3);
    }

    [Fact]
    public void A_request_weighs_as_many_events_as_it_carried()
    {
        // 98 events answered in 10 ms, then 1 in 500 ms and 1 in 900 ms: the p99 event waited 500 ms.
        var summary = LatencySummary.FromRequests([(Ms(900), 1), (Ms(10), 98), (Ms(500), 1)])!;

        Assert.Equal(10, summary.P50Ms, 3);
        Assert.Equal(500, summary.P99Ms, 3);
        Assert.Equal(900, summary.MaxMs, 3);
    }

    [Fact]
    public void Nothing_acknowledged_has_no_latency()
    {
        Assert.Null(LatencySummary.FromEvents([]));
        Assert.Null(LatencySummary.FromRequests([]));
    }
}
