using Ingest.Grains;

namespace Ingest.Silo.Storage;

/// <summary>A flush waiting in the sink's queue, and the task its writer awaits.</summary>
internal sealed class PendingFlush(StreamFlush flush, long bytes)
    : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public StreamFlush Flush { get; } = flush;

    /// <summary>What the flush counts against the queue's bound.</summary>
    public long Bytes { get; } = bytes;
}
