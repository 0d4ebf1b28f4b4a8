namespace Ingest.Grains;

/// <summary>
/// The ticks that every stream's flush timer falls due on: multiples of a period on one monotonic
/// clock. Timers set at different moments fire together, so a sink can commit the flushes of all
/// of a tick's streams as one write, rather than one write per stream as each timer comes due.
/// </summary>
public static class FlushClock
{
    /// <summary>How long from now until the next tick of <paramref name="period"/>: more than zero, at most the period.</summary>
    public static TimeSpan UntilNextTick(TimeProvider time, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(time);
        var frequency = time.TimestampFrequency;
        var ticks = PeriodTicks(period, frequency);
        if (ticks <= 0)
            return period;
        var now = time.GetTimestamp();
        return TimeSpan.FromSeconds((double)(NextTick(now, ticks, 0) - now) / frequency);
    }

    /// <summary>The first tick after <paramref name="timestamp"/>, in the same clock's units; a tick is a multiple of <paramref name="period"/> plus <paramref name="offset"/>.</summary>
    public static long NextTick(long timestamp, long period, long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(period);
        var phase = (timestamp - offset) % period;
        if (phase < 0)
            phase += period;
        return timestamp - phase + period;
    }

    /// <summary><paramref name="period"/> in the units of a clock that counts <paramref name="frequency"/> a second.</summary>
    public static long PeriodTicks(TimeSpan period, long frequency) => (long)(period.TotalSeconds * frequency);
}
