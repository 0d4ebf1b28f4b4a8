using System.Text;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// The events of a commit's flush parts as rows of <c>events</c> (stream_id, seq, received_at,
/// payload), written straight into DuckDB's output chunks, each event under the sequence number
/// its batch gives it. Reused from one commit to the next by one thread.
/// </summary>
internal sealed unsafe class EventRows : IDuckDbChunkSource
{
    private static readonly List<FlushPart> NoParts = [];

    private readonly int _capacity = (int)NativeMethods.Helpers.VectorSize();
    private readonly byte[] _key = new byte[Encoding.UTF8.GetMaxByteCount(StreamKey.MaxLength)];
    private List<FlushPart> _parts = NoParts;
    private int _part;
    private int _batch;
    private int _event;
    // Events of the current part still to write; -1 before the part is found in its batches.
    private long _left = -1;
    private int _keyLength = -1;

    /// <summary>The events of <paramref name="parts"/>, from the first.</summary>
    /// <returns>How many rows they make.</returns>
    public long Start(List<FlushPart> parts)
    {
        _parts = parts;
        _part = 0;
        _left = -1;
        _keyLength = -1;
        long events = 0;
        foreach (var part in parts)
            events += part.To - part.From;
        return events;
    }

    public int Fill(IntPtr chunk)
    {
        var streamIds = NativeMethods.DataChunk.Vector(chunk, 0);
        var seqs = (long*)NativeMethods.Vector.Data(NativeMethods.DataChunk.Vector(chunk, 1));
        var receivedAts = (long*)NativeMethods.Vector.Data(NativeMethods.DataChunk.Vector(chunk, 2));
        var payloadVector = NativeMethods.DataChunk.Vector(chunk, 3);
        var rows = 0;
        while (rows < _capacity && _part < _parts.Count)
        {
            var part = _parts[_part];
            var flush = part.Pending.Flush;
            if (_left < 0)
                Seek(flush, part);
            if (_left == 0)
            {
                _part++;
                _left = -1;
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
                var stop = (int)Math.Min(batch.Count, _event + Math.Min(_left, _capacity - rows));
                _left -= stop - _event;
                for (; _event < stop; _event++, rows++)
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

    /// <summary>Lets go of the commit's parts.</summary>
    public void Clear() => _parts = NoParts;

    /// <summary>Finds the part's first event among its flush's batches.</summary>
    private void Seek(StreamFlush flush, FlushPart part)
    {
        _batch = 0;
        var skip = part.From;
        while (_batch < flush.Batches.Count && skip >= flush.Batches[_batch].Count && skip > 0)
            skip -= flush.Batches[_batch++].Count;
        _event = (int)skip;
        _left = part.To - part.From;
    }
}
