using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

internal static partial class NativeMethods
{
    internal static partial class Helpers
    {
        [LibraryImport(Library, EntryPoint = "duckdb_free")]
        internal static partial void Free(IntPtr pointer);

        /// <summary>Rows a data chunk holds at most (2048 in release builds).</summary>
        [LibraryImport(Library, EntryPoint = "duckdb_vector_size")]
        internal static partial ulong VectorSize();
    }
}
