using Microsoft.Win32.SafeHandles;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary><c>duckdb_appender</c>. Destroying flushes; callers flush first so that errors are not lost.</summary>
internal sealed class DuckDbAppenderHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public DuckDbAppenderHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        _ = NativeMethods.Appender.Destroy(ref handle);
        return true;
    }
}
