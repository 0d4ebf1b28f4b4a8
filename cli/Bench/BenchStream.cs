using Ingest.Contracts;

namespace Ingest.Cli.Bench;

/// <summary>One stream's events, cut into the batches its grain would flush.</summary>
internal sealed record BenchStream(StreamKey Key, IReadOnlyList<EventBatch> Batches)
{
    public long Events => Batches.Sum(b => (long)b.Count);

    public long Bytes => Batches.Sum(b => (long)b.Bytes);
}
