using System.Text.Unicode;
using Ingest.Grains;

namespace Ingest.Silo.Storage;

/// <summary>The checks every sink makes on a flush before queueing it, and what it weighs in the queue.</summary>
internal static class FlushMeasure
{
    private const int FlushOverhead = 512;

    /// <summary>
    /// The flush's bytes plus <paramref name="rowOverhead"/> per event, so tiny events still
    /// count against a queue's bound.
    /// </summary>
    /// <exception cref="ArgumentException">A batch has no sequence number, holds invalid UTF-8, or runs past the flush's state.</exception>
    public static long Measure(StreamFlush flush, int rowOverhead)
    {
        long bytes = FlushOverhead;
        var batches = flush.Batches;
        for (var i = 0; i < batches.Count; i++)
        {
            var batch = batches[i];
            if (batch.FirstSeq <= 0)
                throw new ArgumentException($"The flush of stream {flush.State.Key} holds a batch with no sequence number.", nameof(flush));
            bytes += batch.Bytes + ((long)batch.Count * rowOverhead);
            // DuckDB stores invalid UTF-8 as NULL and PostgreSQL refuses it; either way every flush
            // in the same commit would fail. The gateway checks already; this keeps a slip there
            // from failing other streams' writes. It costs one vectorised pass.
            if (!Utf8.IsValid(batch.Payloads.AsSpan(0, batch.Bytes)))
                throw new ArgumentException($"The flush of stream {flush.State.Key} holds an event that is not valid UTF-8.", nameof(flush));
        }
        if (batches.Count > 0 && batches[^1].FirstSeq + batches[^1].Entries - 1 > flush.State.Position)
            throw new ArgumentException(
                $"The flush of stream {flush.State.Key} holds events past its position {flush.State.Position}.",
                nameof(flush));
        return bytes;
    }
}
