using Microsoft.Win32.SafeHandles;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary><c>duckdb_database</c>; the file stays locked until this and every connection to it are released.</summary>
internal sealed class DuckDbDatabaseHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public DuckDbDatabaseHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.Startup.Close(ref handle);
        return true;
    }
}
