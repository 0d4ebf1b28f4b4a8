namespace Ingest.Cli.Bench;

/// <summary>What the node spent during one run, from its <c>/v1/node</c> samples.</summary>
/// <param name="CpuSeconds">CPU time over the run, all threads.</param>
/// <param name="CpuPercent">That as a share of one core over the run's wall time (200% is both cores of two).</param>
/// <param name="PeakRssBytes">The most resident memory sampled during the run (every ~100 ms).</param>
/// <param name="HighWaterRssBytes">The most the process has ever had resident (VmHWM), since it started.</param>
internal sealed record NodeUsage(double CpuSeconds, double CpuPercent, long PeakRssBytes, long HighWaterRssBytes, long EndRssBytes, int Samples);
