namespace Ingest.Cli.Bench;

/// <summary>What a load run saw from the client's side.</summary>
internal sealed record LoadOutcome(long Sent, long Acknowledged, long Bytes, TimeSpan Elapsed, LatencySummary? Latency, IReadOnlyList<string> Errors);
