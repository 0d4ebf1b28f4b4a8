using Microsoft.Win32.SafeHandles;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary><c>duckdb_data_chunk</c>, whether created by us or fetched from a result.</summary>
internal sealed class DuckDbDataChunkHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public DuckDbDataChunkHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.DataChunk.Destroy(ref handle);
        return true;
    }
}
