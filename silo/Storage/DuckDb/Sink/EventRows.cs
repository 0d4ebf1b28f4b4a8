using System.Text;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// The events of a group of flushes as rows of <c>events</c> (stream_id, seq, received_at,
/// payload), written straight into DuckDB's output chunks, each event under the sequence number
/// its batch gives it. Reused from one group to the next by one thread.
/// </summary>
internal sealed unsafe class EventRows : IDuckDbChunkSource
{
    private static readonly List<PendingFlush> NoFlushes = [];

    private readonly int _capacity = (int)NativeMethods.Helpers.VectorSize();
    private readonly byte[] _key = new byte[Encoding.UTF8.GetMaxByteCount(StreamKey.MaxLength)];
    private List<PendingFlush> _group = NoFlushes;
    private int _flush;
    private int _batch;
    private int _event;
    private int _keyLength = -1;

    /// <summary>The events of <paramref name="group"/>, from the first.</summary>
    /// <returns>How many rows they make.</returns>
    public long Start(List<PendingFlush> group)
    {
        _group = group;
        _flush = _batch = _event = 0;
        _keyLength = -1;
        long events = 0;
        foreach (var pending in group)
            events += pending.Flush.EventCount;
        return events;
    }

    public int Fill(IntPtr chunk)
    {
        var streamIds = NativeMethods.DataChunk.Vector(chunk, 0);
        var seqs = (long*)NativeMethods.Vector.Data(NativeMethods.DataChunk.Vector(chunk, 1));
        var receivedAts = (long*)NativeMethods.Vector.Data(NativeMethods.DataChunk.Vector(chunk, 2));
        var payloadVector = NativeMethods.DataChunk.Vector(chunk, 3);
        var rows = 0;
        while (rows < _capacity && _flush < _group.Count)
        {
            var flush = _group[_flush].Flush;
            if (_batch == flush.Batches.Count)
            {
                _flush++;
                _batch = _event = 0;
                _keyLength = -1;
                continue;
            }
            var batch = flush.Batches[_batch];
            if (_event == batch.Count)
            {
                _batch++;
                _event = 0;
                continue;
            }
            if (_keyLength < 0)
                _keyLength = Encoding.UTF8.GetBytes(flush.State.Key.Value, _key);
            var receivedAt = DuckDbTimestamp.ToUnixMicros(batch.ReceivedAt);
            var ends = batch.Ends;
            var offsets = batch.Offsets;
            fixed (byte* payloads = batch.Payloads)
            fixed (byte* key = _key)
            {
                var start = batch.Start(_event);
                for (; _event < batch.Count && rows < _capacity; _event++, rows++)
                {
                    var end = ends[_event];
                    // The key is encoded from a .NET string, so valid UTF-8; every payload the sink
                    // writes was checked when its flush was queued (FlushMeasure).
                    NativeMethods.Vector.AssignValidStringElement(streamIds, (ulong)rows, key, (ulong)_keyLength);
                    seqs[rows] = batch.FirstSeq + (offsets is null ? _event : offsets[_event]);
                    receivedAts[rows] = receivedAt;
                    NativeMethods.Vector.AssignValidStringElement(payloadVector, (ulong)rows, payloads + start, (ulong)(end - start));
                    start = end;
                }
            }
        }
        return rows;
    }

    /// <summary>Lets go of the group's flushes.</summary>
    public void Clear() => _group = NoFlushes;
}
