namespace Ingest.Cli.Bench;

/// <summary>What a load run saw from the client's side.</summary>
/// <param name="LatencyBySecond">The latency of the events sent in each second of the run (<see cref="LatencyTimeline"/>).</param>
internal sealed record LoadOutcome(
    long Sent, long Acknowledged, long Bytes, TimeSpan Elapsed, LatencySummary? Latency, IReadOnlyList<LatencySecond> LatencyBySecond, IReadOnlyList<string> Errors);
