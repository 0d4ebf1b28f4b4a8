using Microsoft.Win32.SafeHandles;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary><c>duckdb_extracted_statements</c>.</summary>
internal sealed class DuckDbExtractedStatementsHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public DuckDbExtractedStatementsHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.ExtractStatements.Destroy(ref handle);
        return true;
    }
}
