using System.Diagnostics;

namespace Ingest.Cli.Bench;

/// <summary>Holds one stream to its share of <c>--rate</c>: event <c>i</c> (from 0) is due <c>i / rate</c> seconds after the start.</summary>
internal sealed class Pacer
{
    /// <summary>Timers tick in milliseconds; waiting less would spin.</summary>
    private static readonly long MinWait = Stopwatch.Frequency / 1000;

    private readonly long _start;
    private readonly double _ticksPerEvent;

    /// <param name="eventsPerSecond">0 or less: everything is due at once.</param>
    public Pacer(double eventsPerSecond)
    {
        _start = Stopwatch.GetTimestamp();
        _ticksPerEvent = eventsPerSecond > 0 ? Stopwatch.Frequency / eventsPerSecond : 0;
    }

    /// <summary>How many of <paramref name="total"/> events are due by now.</summary>
    public long Due(long total) =>
        _ticksPerEvent == 0 ? total : Math.Min(total, (long)((Stopwatch.GetTimestamp() - _start) / _ticksPerEvent) + 1);

    /// <summary>Waits until event <paramref name="index"/> is due, at least a millisecond if it is not yet.</summary>
    public ValueTask UntilDueAsync(long index, CancellationToken cancellationToken)
    {
        if (_ticksPerEvent == 0)
            return ValueTask.CompletedTask;
        var wait = _start + (long)(index * _ticksPerEvent) - Stopwatch.GetTimestamp();
        return wait <= 0
            ? ValueTask.CompletedTask
            : new ValueTask(Task.Delay(TimeSpan.FromSeconds((double)Math.Max(wait, MinWait) / Stopwatch.Frequency), cancellationToken));
    }
}
