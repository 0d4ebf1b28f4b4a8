using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

internal static partial class NativeMethods
{
    internal static partial class Configuration
    {
        [LibraryImport(Library, EntryPoint = "duckdb_create_config")]
        internal static partial DuckDbState Create(out DuckDbConfigHandle config);

        [LibraryImport(Library, EntryPoint = "duckdb_set_config", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial DuckDbState Set(DuckDbConfigHandle config, string name, string option);

        [LibraryImport(Library, EntryPoint = "duckdb_destroy_config")]
        internal static partial void Destroy(ref IntPtr config);
    }
}
