using Microsoft.Win32.SafeHandles;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary><c>duckdb_connection</c>; one thread at a time.</summary>
internal sealed class DuckDbConnectionHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public DuckDbConnectionHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.Startup.Disconnect(ref handle);
        return true;
    }
}
