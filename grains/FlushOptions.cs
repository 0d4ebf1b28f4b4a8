namespace Ingest.Grains;

/// <summary>When a stream's buffered events are flushed: whichever threshold is reached first.</summary>
public sealed record FlushOptions
{
    public int MaxEvents { get; init; } = 16_384;

    public int MaxBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// The period of the <see cref="FlushClock"/>: a buffered event waits at most this long, until the
    /// clock's next tick, for its stream's flush.
    /// </summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// How many of a stream's flushes may be committing at once, when its sinks keep a stream's
    /// writes in order (<see cref="IEventSink.KeepsStreamOrder"/>); one otherwise.
    /// </summary>
    public int MaxFlights { get; init; } = 2;
}
