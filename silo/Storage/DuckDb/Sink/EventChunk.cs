using System.Text;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// A data chunk shaped like <c>events</c>, filled by writing straight into its vectors and
/// handed to the appender whenever it is full. Reused from one group to the next.
/// </summary>
internal sealed unsafe class EventChunk : IDisposable
{
    private static readonly DuckDbType[] Columns = [DuckDbType.Varchar, DuckDbType.BigInt, DuckDbType.TimestampTz, DuckDbType.Varchar];

    private readonly DuckDbDataChunkHandle _chunk;
    private readonly int _capacity = (int)NativeMethods.Helpers.VectorSize();
    private IntPtr _streamIds;
    private long* _seqs;
    private long* _receivedAt;
    private IntPtr _payloads;
    private int _rows;

    /// <summary>Creates the chunk from the appender's own column types, so no cast happens on append.</summary>
    public EventChunk(DuckDbAppender appender)
    {
        var count = appender.ColumnCount;
        if (count != Columns.Length)
            throw new DuckDbException($"Table events has {count} columns; expected stream_id, seq, received_at, payload.");
        var types = new DuckDbLogicalTypeHandle[count];
        try
        {
            var pointers = stackalloc IntPtr[count];
            for (var i = 0; i < count; i++)
            {
                types[i] = appender.ColumnType(i);
                var id = NativeMethods.LogicalType.TypeId(types[i]);
                if (id != Columns[i])
                    throw new DuckDbException($"Column {i + 1} of table events is {id}; expected {Columns[i]}.");
                pointers[i] = types[i].DangerousGetHandle();
            }
            _chunk = NativeMethods.DataChunk.Create(pointers, (ulong)count);
        }
        finally
        {
            foreach (var type in types)
                type?.Dispose();
        }
        BindVectors();
    }

    /// <summary>Adds a flush's events under the sequence numbers their batches give them.</summary>
    public void Add(StreamFlush flush, DuckDbAppender appender)
    {
        Span<byte> key = stackalloc byte[Encoding.UTF8.GetMaxByteCount(StreamKey.MaxLength)];
        var keyLength = (ulong)Encoding.UTF8.GetBytes(flush.State.Key.Value, key);
        var batches = flush.Batches;
        fixed (byte* keyBytes = key)
        {
            for (var b = 0; b < batches.Count; b++)
            {
                var batch = batches[b];
                var receivedAt = DuckDbTimestamp.ToUnixMicros(batch.ReceivedAt);
                var ends = batch.Ends;
                var offsets = batch.Offsets;
                var firstSeq = batch.FirstSeq;
                fixed (byte* payloads = batch.Payloads)
                {
                    var start = 0;
                    for (var i = 0; i < batch.Count; i++)
                    {
                        if (_rows == _capacity)
                            AppendTo(appender);
                        var end = ends[i];
                        var row = (ulong)_rows;
                        NativeMethods.Vector.AssignStringElement(_streamIds, row, keyBytes, keyLength);
                        _seqs[_rows] = firstSeq + (offsets is null ? i : offsets[i]);
                        _receivedAt[_rows] = receivedAt;
                        NativeMethods.Vector.AssignStringElement(_payloads, row, payloads + start, (ulong)(end - start));
                        _rows++;
                        start = end;
                    }
                }
            }
        }
    }

    /// <summary>Hands the rows gathered so far to the appender and empties the chunk.</summary>
    public void AppendTo(DuckDbAppender appender)
    {
        if (_rows == 0)
            return;
        NativeMethods.DataChunk.SetSize(_chunk, (ulong)_rows);
        appender.Append(_chunk);
        Reset();
    }

    /// <summary>Drops whatever a failed group left behind.</summary>
    public void Reset()
    {
        NativeMethods.DataChunk.Reset(_chunk);
        _rows = 0;
        BindVectors();
    }

    public void Dispose() => _chunk.Dispose();

    // Resetting may swap the vectors' buffers, so their addresses are looked up afresh each time.
    private void BindVectors()
    {
        _streamIds = NativeMethods.DataChunk.Vector(_chunk, 0);
        _seqs = (long*)NativeMethods.Vector.Data(NativeMethods.DataChunk.Vector(_chunk, 1));
        _receivedAt = (long*)NativeMethods.Vector.Data(NativeMethods.DataChunk.Vector(_chunk, 2));
        _payloads = NativeMethods.DataChunk.Vector(_chunk, 3);
    }
}
