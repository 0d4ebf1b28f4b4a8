using System.Text.Unicode;
using Ingest.Contracts;
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
            // Invalid UTF-8 fails DuckDB's commit (its writer skips DuckDB's own check, relying on
            // this one) and PostgreSQL refuses it; either way every flush in the same commit would
            // fail. The gateway checks already; this keeps a slip there from failing other streams'
            // writes. It costs one vectorised pass, and a byte per event: valid bytes cut only
            // where no event starts inside a character make every event valid on its own.
            if (!Utf8.IsValid(batch.Payloads.AsSpan(0, batch.Bytes)) || SplitsACharacter(batch))
                throw new ArgumentException($"The flush of stream {flush.State.Key} holds an event that is not valid UTF-8.", nameof(flush));
        }
        if (batches.Count > 0 && batches[^1].FirstSeq + batches[^1].Entries - 1 > flush.State.Position)
            throw new ArgumentException(
                $"The flush of stream {flush.State.Key} holds events past its position {flush.State.Position}.",
                nameof(flush));
        return bytes;
    }

    /// <summary>Whether an event starts with a UTF-8 continuation byte, that is inside the character the one before ends with.</summary>
    private static bool SplitsACharacter(EventBatch batch)
    {
        var payloads = batch.Payloads;
        var ends = batch.Ends;
        for (var i = 0; i < batch.Count - 1; i++)
        {
            var start = ends[i];
            if (start < ends[i + 1] && (payloads[start] & 0xC0) == 0x80)
                return true;
        }
        return false;
    }
}
