namespace Ingest.Cli.Bench;

/// <summary>What <c>bench postgres</c> was asked to measure.</summary>
/// <param name="Connection">A running server's connection string; null starts a throwaway one.</param>
internal sealed record PostgresBenchSettings(string? Connection, int Events, int Streams, int EventSize, int Rounds)
{
    /// <summary>Events per flush: a grain flushes whatever it gathered, so sizes vary within this range.</summary>
    public const int MinFlushEvents = 1000;
    public const int MaxFlushEvents = 4000;

    /// <summary>What makes these settings unusable, if anything.</summary>
    public string? Problem() =>
        Events < 1 || Streams < 1 || Streams > Events ? "--events and --streams must be positive, with at least one event per stream."
        : EventSize is < 64 or > 1024 * 1024 ? "--event-size must be between 64 and 1048576 bytes."
        : Rounds is < 1 or > 20 ? "--rounds must be between 1 and 20."
        : null;
}
