using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>
/// <c>duckdb_result</c>: five deprecated fields and the pointer that matters. It lives in
/// native memory (see <see cref="DuckDbResultHandle"/>) and is copied by value only for the
/// functions that take it that way.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbResult
{
    public ulong DeprecatedColumnCount;
    public ulong DeprecatedRowCount;
    public ulong DeprecatedRowsChanged;
    public IntPtr DeprecatedColumns;
    public IntPtr DeprecatedErrorMessage;
    public IntPtr InternalData;
}
