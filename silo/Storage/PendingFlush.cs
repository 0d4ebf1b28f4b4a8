using Ingest.Grains;

namespace Ingest.Silo.Storage;

/// <summary>A flush waiting in the sink's queue, and the task its writer awaits.</summary>
internal sealed class PendingFlush(StreamFlush flush, long bytes)
    : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public StreamFlush Flush { get; } = flush;

    /// <summary>What the flush counts against the queue's bound.</summary>
    public long Bytes { get; } = bytes;

    /// <summary>The flush's events, counted once over its batches.</summary>
    public long Events { get; } = flush.EventCount;

    /// <summary>
    /// Of the flush's events, how many earlier commits stored: the DuckDB sink may commit a flush
    /// in two parts. Written by the sink's writer only.
    /// </summary>
    public long Stored { get; set; }

    /// <summary>The state the stream reached with the <see cref="Stored"/> events; null while none.</summary>
    public StreamState? StoredState { get; set; }

    /// <summary>When a commit first held the flush, or its end, back for a later one, on the sink's clock; 0 if none has.</summary>
    public long HeldAt { get; set; }

    /// <summary>The events not yet stored.</summary>
    public long Unstored => Events - Stored;
}
