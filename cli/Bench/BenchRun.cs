namespace Ingest.Cli.Bench;

/// <summary>One measured thing of <c>bench node</c>: a row of its table and an entry of its JSON line.</summary>
/// <param name="Scenario">post, ws, post@half, ws@half, appender, parse.</param>
/// <param name="Target">What took the events: node, blackhole, or the bench process itself (in-process).</param>
/// <param name="Events">Events sent (or, in process, handled).</param>
/// <param name="Acknowledged">Events the answers counted; anything short of <paramref name="Events"/> is an error.</param>
/// <param name="Bytes">Payload bytes, newlines included.</param>
/// <param name="Rate">The pace asked for in events/s; 0 for as fast as possible.</param>
internal sealed record BenchRun(
    string Scenario,
    string Transport,
    string Target,
    int Streams,
    long Events,
    long Acknowledged,
    long Bytes,
    TimeSpan Elapsed,
    double Rate,
    LatencySummary? Latency,
    NodeUsage? Node,
    IReadOnlyList<string> Errors)
{
    /// <summary>
    /// Time this process, the load generator, spent paused by its garbage collector during the run:
    /// an acknowledgement that arrives then is read late, and its latency counts the pause.
    /// </summary>
    public TimeSpan LoadGeneratorGcPause { get; init; }

    /// <summary>Full (generation 2) collections of this process during the run.</summary>
    public int LoadGeneratorGen2 { get; init; }

    /// <summary>The latency of the events sent in each second of the run; empty for the in-process baselines.</summary>
    public IReadOnlyList<LatencySecond> LatencyBySecond { get; init; } = [];

    /// <summary>Stalls of the machine during the run (<see cref="StallWatch"/>); null where it is not watched.</summary>
    public StallTally? Stalls { get; init; }

    public double EventsPerSecond => Events / Elapsed.TotalSeconds;

    public double MibPerSecond => Bytes / (1024.0 * 1024) / Elapsed.TotalSeconds;

    public bool Ok => Errors.Count == 0 && Acknowledged == Events;
}
