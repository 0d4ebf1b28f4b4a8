namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>
/// Reads one column of a fetched data chunk straight from its vector. Valid while the chunk
/// lives; the spans it hands out point into the chunk.
/// </summary>
internal readonly unsafe struct DuckDbColumn
{
    private readonly void* _data;
    private readonly ulong* _validity;

    public DuckDbColumn(DuckDbDataChunkHandle chunk, int column)
    {
        var vector = NativeMethods.DataChunk.Vector(chunk, (ulong)column);
        _data = NativeMethods.Vector.Data(vector);
        _validity = NativeMethods.Vector.Validity(vector);
    }

    public bool IsNull(int row) => _validity != null && (_validity[row >> 6] & (1UL << (row & 63))) == 0;

    /// <summary>A VARCHAR (or JSON, or BLOB) element's bytes.</summary>
    public ReadOnlySpan<byte> GetBytes(int row) => DuckDbString.Read((DuckDbString*)_data + row);

    public long GetInt64(int row) => ((long*)_data)[row];
}
