using System.Runtime.InteropServices;
using System.Text;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// A data chunk of named, typed columns, filled a row at a time by writing into its vectors and
/// handed to an appender whenever it is full. Reused from one transaction to the next.
/// </summary>
internal sealed unsafe class RowChunk : IDisposable
{
    private readonly DuckDbLogicalTypeHandle[] _types;
    private readonly IntPtr[] _typePointers;
    private readonly byte** _names;
    private readonly DuckDbDataChunkHandle _chunk;
    private readonly int _capacity = (int)NativeMethods.Helpers.VectorSize();
    private byte[] _text = new byte[1024];
    private int _rows;

    public RowChunk(IReadOnlyList<(string Name, DuckDbType Type)> columns)
    {
        _types = new DuckDbLogicalTypeHandle[columns.Count];
        _typePointers = new IntPtr[columns.Count];
        _names = (byte**)NativeMemory.AllocZeroed((nuint)columns.Count, (nuint)sizeof(byte*));
        for (var i = 0; i < columns.Count; i++)
        {
            _types[i] = NativeMethods.LogicalType.Create(columns[i].Type);
            _typePointers[i] = _types[i].DangerousGetHandle();
            _names[i] = (byte*)Marshal.StringToCoTaskMemUTF8(columns[i].Name);
        }
        fixed (IntPtr* types = _typePointers)
            _chunk = NativeMethods.DataChunk.Create(types, (ulong)columns.Count);
    }

    /// <summary>A query appender whose query reads these rows as the table <paramref name="table"/>.</summary>
    public DuckDbAppender CreateQueryAppender(DuckDbConnection connection, string query, string table) =>
        connection.CreateQueryAppender(query, table, _typePointers, _names);

    /// <summary>Starts the next row, first handing a full chunk to <paramref name="appender"/>.</summary>
    /// <returns>The row's index in the chunk.</returns>
    public int NextRow(DuckDbAppender appender)
    {
        if (_rows == _capacity)
            AppendTo(appender);
        return _rows++;
    }

    public void WriteString(int column, int row, string? value)
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

    public void WriteInt64(int column, int row, long value) => ((long*)NativeMethods.Vector.Data(Vector(column)))[row] = value;

    public void WriteNull(int column, int row)
    {
        var vector = Vector(column);
        NativeMethods.Vector.EnsureValidityWritable(vector);
        NativeMethods.Vector.Validity(vector)[row >> 6] &= ~(1UL << (row & 63));
    }

    /// <summary>Hands the rows written so far to <paramref name="appender"/> and empties the chunk.</summary>
    public void AppendTo(DuckDbAppender appender)
    {
        if (_rows == 0)
            return;
        NativeMethods.DataChunk.SetSize(_chunk, (ulong)_rows);
        appender.Append(_chunk);
        Reset();
    }

    public void Reset()
    {
        NativeMethods.DataChunk.Reset(_chunk);
        _rows = 0;
    }

    public void Dispose()
    {
        _chunk.Dispose();
        for (var i = 0; i < _types.Length; i++)
        {
            _types[i]?.Dispose();
            Marshal.FreeCoTaskMem((IntPtr)_names[i]);
        }
        NativeMemory.Free(_names);
    }

    private IntPtr Vector(int column) => NativeMethods.DataChunk.Vector(_chunk, (ulong)column);
}
