using System.Diagnostics;

namespace Ingest.Cli.Bench;

/// <summary>
/// Acknowledgement latency over events: how long from sending an event until a count that covers
/// it came back. A POST's events all share the request's latency, so each request weighs as many
/// events as it carried.
/// </summary>
internal sealed record LatencySummary(double P50Ms, double P99Ms, double MaxMs)
{
    /// <param name="ticks">One latency per event, in <see cref="Stopwatch"/> ticks; sorted in place.</param>
    public static LatencySummary? FromEvents(long[] ticks)
    {
        if (ticks.Length == 0)
            return null;
        Array.Sort(ticks);
        return new LatencySummary(Ms(ticks[Rank(ticks.Length, 0.50)]), Ms(ticks[Rank(ticks.Length, 0.99)]), Ms(ticks[^1]));
    }

    /// <param name="requests">Each request's latency in <see cref="Stopwatch"/> ticks and the events it carried.</param>
    public static LatencySummary? FromRequests(IReadOnlyList<(long Ticks, int Events)> requests)
    {
        var sorted = requests.Where(r => r.Events > 0).OrderBy(r => r.Ticks).ToArray();
        var total = sorted.Sum(r => (long)r.Events);
        if (total == 0)
            return null;
        return new LatencySummary(Ms(At(sorted, Rank(total, 0.50))), Ms(At(sorted, Rank(total, 0.99))), Ms(sorted[^1].Ticks));
    }

    private static long Rank(long count, double quantile) => Math.Min(count - 1, (long)Math.Ceiling(count * quantile) - 1);

    // The latency of the event at this rank, counting each request's events in order.
    private static long At((long Ticks, int Events)[] sorted, long rank)
    {
        long seen = 0;
        foreach (var (ticks, events) in sorted)
        {
            seen += events;
            if (seen > rank)
                return ticks;
        }
        return sorted[^1].Ticks;
    }

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
