using Ingest.Silo.Storage.Postgres;

namespace Ingest.Cli.Bench;

/// <summary>How the sink's run went.</summary>
/// <param name="ClientCpu">CPU time this process spent meanwhile: the sink and the simulated grains.</param>
internal sealed record SinkResult(TimeSpan Elapsed, TimeSpan ClientCpu, PostgresSinkCounters Counters, long Backpressure);
