namespace Ingest.Silo.Hosting;

/// <summary>How the silo flushes and retires grains; configuration section "Silo".</summary>
public sealed class SiloOptions
{
    public const string Section = "Silo";

    /// <summary>
    /// Where streams' events go: <c>duckdb</c>, <c>postgres</c>, or both as <c>duckdb,postgres</c>.
    /// A stream may narrow it with the <c>X-Stream-Sinks</c> header.
    /// </summary>
    public string Sinks { get; set; } = "duckdb";

    /// <summary>A stream flushes once this many events are buffered...</summary>
    public int FlushMaxEvents { get; set; } = 16_384;

    /// <summary>...or this many bytes...</summary>
    public int FlushMaxBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// ...or at the next tick of a clock that ticks this often, whichever comes first. Every stream
    /// flushes on the same ticks, and the DuckDB sink commits each tick's flushes together
    /// (<see cref="Storage.DuckDb.DuckDbOptions.CommitInterval"/>).
    /// </summary>
    public TimeSpan FlushMaxDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// How many of a stream's flushes may be committing at once. A second may start while a sink
    /// holds the first back for a fuller commit, when every sink of the stream keeps its writes in
    /// order (DuckDB does; PostgreSQL does not, and its streams flush one at a time).
    /// </summary>
    public int FlushFlights { get; set; } = 2;

    /// <summary>A grain with no calls for this long is flushed and deactivated.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often idle grains are looked for.</summary>
    public TimeSpan IdleCheckInterval { get; set; } = TimeSpan.FromSeconds(15);
}
