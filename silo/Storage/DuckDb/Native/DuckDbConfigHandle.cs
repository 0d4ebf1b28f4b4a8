using Microsoft.Win32.SafeHandles;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary><c>duckdb_config</c>; only needed until the database is open.</summary>
internal sealed class DuckDbConfigHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public DuckDbConfigHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.Configuration.Destroy(ref handle);
        return true;
    }
}
