using System.Diagnostics;

namespace Ingest.Cli.Bench;

/// <summary>One second of a run, by when its events were sent: how many, and their latency.</summary>
/// <param name="Second">Whole seconds from the start of the run.</param>
internal sealed record LatencySecond(int Second, long Events, LatencySummary Latency);

/// <summary>
/// A run's acknowledgement latency second by second of sending, so that a p99 over the whole run
/// can be told apart: a few bad seconds, or every second alike. Used by one thread, after the run.
/// </summary>
internal sealed class LatencyTimeline(long origin)
{
    private readonly List<List<long>> _events = [];
    private readonly List<List<(long Ticks, int Events)>> _requests = [];

    /// <summary>An event sent at <paramref name="sentAt"/> (a <see cref="Stopwatch"/> timestamp) and acknowledged <paramref name="latency"/> ticks later.</summary>
    public void AddEvent(long sentAt, long latency) => Second(_events, sentAt).Add(latency);

    /// <summary>A request sent at <paramref name="sentAt"/>, answered <paramref name="latency"/> ticks later, that carried <paramref name="events"/> events.</summary>
    public void AddRequest(long sentAt, long latency, int events) => Second(_requests, sentAt).Add((latency, events));

    /// <summary>Every second from the start to the last with anything sent; a second with nothing acknowledged is left out.</summary>
    public IReadOnlyList<LatencySecond> Seconds()
    {
        var seconds = new List<LatencySecond>();
        for (var s = 0; s < Math.Max(_events.Count, _requests.Count); s++)
        {
            var events = s < _events.Count ? _events[s] : [];
            var requests = s < _requests.Count ? _requests[s] : [];
            var latency = events.Count > 0 ? LatencySummary.FromEvents([.. events]) : LatencySummary.FromRequests(requests);
            if (latency is not null)
                seconds.Add(new LatencySecond(s, events.Count + requests.Sum(r => (long)r.Events), latency));
        }
        return seconds;
    }

    /// <summary>The whole run's latency, over every event added; null if none was.</summary>
    public LatencySummary? Overall() =>
        _events.Any(second => second.Count > 0)
            ? LatencySummary.FromEvents([.. _events.SelectMany(second => second)])
            : LatencySummary.FromRequests([.. _requests.SelectMany(second => second)]);

    private List<T> Second<T>(List<List<T>> seconds, long sentAt)
    {
        var second = (int)Math.Max(0, (sentAt - origin) / Stopwatch.Frequency);
        while (seconds.Count <= second)
            seconds.Add([]);
        return seconds[second];
    }
}
