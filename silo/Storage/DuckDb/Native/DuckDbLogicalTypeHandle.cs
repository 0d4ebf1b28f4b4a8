using Microsoft.Win32.SafeHandles;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary><c>duckdb_logical_type</c>.</summary>
internal sealed class DuckDbLogicalTypeHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public DuckDbLogicalTypeHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.LogicalType.Destroy(ref handle);
        return true;
    }
}
