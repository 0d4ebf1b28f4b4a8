namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>
/// DuckDB's C API (duckdb.h, DuckDB 1.5), one nested class per section of the header.
/// Strings go in as UTF-8; strings that come back stay pointers, because most are owned
/// by DuckDB and a generated marshaller would free them.
/// </summary>
internal static partial class NativeMethods
{
    // The loader turns "duckdb" into libduckdb.so, which the build copies next to the assemblies.
    private const string Library = "duckdb";
}
