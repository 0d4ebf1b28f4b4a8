using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

internal static partial class NativeMethods
{
    internal static partial class LogicalType
    {
        [LibraryImport(Library, EntryPoint = "duckdb_create_logical_type")]
        internal static partial DuckDbLogicalTypeHandle Create(DuckDbType type);

        [LibraryImport(Library, EntryPoint = "duckdb_get_type_id")]
        internal static partial DuckDbType TypeId(DuckDbLogicalTypeHandle type);

        [LibraryImport(Library, EntryPoint = "duckdb_destroy_logical_type")]
        internal static partial void Destroy(ref IntPtr type);
    }
}
