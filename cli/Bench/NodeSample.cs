namespace Ingest.Cli.Bench;

/// <summary>One answer of the node's <c>GET /v1/node</c>.</summary>
internal sealed record NodeSample(int Pid, double CpuSeconds, long RssBytes, long PeakRssBytes, long GcHeapBytes, int Threads);
