using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>
/// A <c>duckdb_result</c>. The C API hands results back in caller-owned structs, so this owns
/// zeroed native memory for one and destroys the result before freeing it.
/// </summary>
internal sealed unsafe class DuckDbResultHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public DuckDbResultHandle()
        : base(ownsHandle: true)
    {
        SetHandle((IntPtr)NativeMemory.AllocZeroed((nuint)sizeof(DuckDbResult)));
    }

    /// <summary>The next chunk, or null once the result is exhausted or has failed.</summary>
    public DuckDbDataChunkHandle? FetchChunk()
    {
        var added = false;
        try
        {
            DangerousAddRef(ref added);
            var chunk = NativeMethods.Query.FetchChunk(*(DuckDbResult*)handle);
            if (!chunk.IsInvalid)
                return chunk;
            chunk.Dispose();
            return null;
        }
        finally
        {
            if (added)
                DangerousRelease();
        }
    }

    /// <summary>DuckDB's message for a failed query or fetch.</summary>
    public DuckDbException Failure() =>
        NativeText.Error(NativeMethods.Query.ResultError(this), "DuckDB reported an error without a message.");

    public bool HasError => NativeMethods.Query.ResultError(this) != IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMethods.Query.DestroyResult(handle);
        NativeMemory.Free((void*)handle);
        return true;
    }
}
