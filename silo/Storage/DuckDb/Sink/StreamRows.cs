using System.Runtime.InteropServices;
using System.Text;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// Writes the <c>streams</c> rows of a group with one set-based upsert: the rows go into a data
/// chunk, and an appender runs the upsert over them. One prepared upsert per stream cost about
/// a millisecond each, which capped a commit of many streams at a few hundred streams a second.
/// </summary>
internal sealed unsafe class StreamRows : IDisposable
{
    private const string Table = "stream_updates";

    // Only what changes is updated; the opening metadata is the first flush's. A row never moves back.
    private const string Upsert = """
        INSERT INTO streams (id, transport, remote_addr, headers, opened_at, closed_at, events, bytes, rejected, duplicates, sinks)
        SELECT id, transport, remote_addr, CAST(headers AS JSON), opened_at, closed_at, events, bytes, rejected, duplicates, sinks
        FROM stream_updates
        ON CONFLICT (id) DO UPDATE SET
          closed_at = excluded.closed_at, events = excluded.events, bytes = excluded.bytes, rejected = excluded.rejected,
          duplicates = excluded.duplicates
        WHERE streams.events + streams.rejected <= excluded.events + excluded.rejected
        """;

    private static readonly (string Name, DuckDbType Type)[] Columns =
    [
        ("id", DuckDbType.Varchar), ("transport", DuckDbType.Varchar), ("remote_addr", DuckDbType.Varchar),
        ("headers", DuckDbType.Varchar), ("opened_at", DuckDbType.TimestampTz), ("closed_at", DuckDbType.TimestampTz),
        ("events", DuckDbType.BigInt), ("bytes", DuckDbType.BigInt), ("rejected", DuckDbType.BigInt),
        ("duplicates", DuckDbType.BigInt), ("sinks", DuckDbType.Varchar),
    ];

    private readonly DuckDbLogicalTypeHandle[] _types = new DuckDbLogicalTypeHandle[Columns.Length];
    private readonly IntPtr[] _typePointers = new IntPtr[Columns.Length];
    private readonly byte** _names;
    private readonly DuckDbDataChunkHandle _chunk;
    private readonly int _capacity = (int)NativeMethods.Helpers.VectorSize();
    private byte[] _text = new byte[1024];
    private int _rows;

    public StreamRows()
    {
        _names = (byte**)NativeMemory.AllocZeroed((nuint)Columns.Length, (nuint)sizeof(byte*));
        for (var i = 0; i < Columns.Length; i++)
        {
            _types[i] = NativeMethods.LogicalType.Create(Columns[i].Type);
            _typePointers[i] = _types[i].DangerousGetHandle();
            _names[i] = (byte*)Marshal.StringToCoTaskMemUTF8(Columns[i].Name);
        }
        fixed (IntPtr* types = _typePointers)
            _chunk = NativeMethods.DataChunk.Create(types, (ulong)Columns.Length);
    }

    /// <summary>Upserts one row per state, inside the connection's current transaction.</summary>
    public void Write(DuckDbConnection connection, Dictionary<StreamKey, StreamState>.ValueCollection states)
    {
        using var appender = connection.CreateQueryAppender(Upsert, Table, _typePointers, _names);
        Reset();
        foreach (var state in states)
        {
            if (_rows == _capacity)
                AppendTo(appender);
            WriteRow(state);
        }
        AppendTo(appender);
        appender.Flush();
    }

    public void Dispose()
    {
        _chunk.Dispose();
        for (var i = 0; i < Columns.Length; i++)
        {
            _types[i]?.Dispose();
            Marshal.FreeCoTaskMem((IntPtr)_names[i]);
        }
        NativeMemory.Free(_names);
    }

    private void WriteRow(StreamState state)
    {
        var row = _rows++;
        WriteString(0, row, state.Key.Value);
        WriteString(1, row, state.Transport.ToWireName());
        WriteString(2, row, state.RemoteAddress);
        WriteString(3, row, state.HeadersJson);
        WriteInt64(4, row, DuckDbTimestamp.ToUnixMicros(state.OpenedAt));
        if (state.ClosedAt is { } closedAt)
            WriteInt64(5, row, DuckDbTimestamp.ToUnixMicros(closedAt));
        else
            WriteNull(5, row);
        WriteInt64(6, row, state.Events);
        WriteInt64(7, row, state.Bytes);
        WriteInt64(8, row, state.Rejected);
        WriteInt64(9, row, state.Duplicates);
        WriteString(10, row, state.Sinks.ToNames());
    }

    private void WriteString(int column, int row, string? value)
    {
        if (value is null)
        {
            WriteNull(column, row);
            return;
        }
        var length = Encoding.UTF8.GetByteCount(value);
        if (length > _text.Length)
            _text = new byte[Math.Max(length, _text.Length * 2)];
        Encoding.UTF8.GetBytes(value, _text);
        fixed (byte* text = _text)
            NativeMethods.Vector.AssignStringElement(Vector(column), (ulong)row, text, (ulong)length);
    }

    private void WriteInt64(int column, int row, long value) => ((long*)NativeMethods.Vector.Data(Vector(column)))[row] = value;

    private void WriteNull(int column, int row)
    {
        var vector = Vector(column);
        NativeMethods.Vector.EnsureValidityWritable(vector);
        NativeMethods.Vector.Validity(vector)[row >> 6] &= ~(1UL << (row & 63));
    }

    private IntPtr Vector(int column) => NativeMethods.DataChunk.Vector(_chunk, (ulong)column);

    private void AppendTo(DuckDbAppender appender)
    {
        if (_rows == 0)
            return;
        NativeMethods.DataChunk.SetSize(_chunk, (ulong)_rows);
        appender.Append(_chunk);
        Reset();
    }

    private void Reset()
    {
        NativeMethods.DataChunk.Reset(_chunk);
        _rows = 0;
    }
}
