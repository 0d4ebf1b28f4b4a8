using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

internal static partial class NativeMethods
{
    internal static partial class DataChunk
    {
        /// <param name="types">One <c>duckdb_logical_type</c> per column; the chunk copies them.</param>
        [LibraryImport(Library, EntryPoint = "duckdb_create_data_chunk")]
        internal static unsafe partial DuckDbDataChunkHandle Create(IntPtr* types, ulong columnCount);

        [LibraryImport(Library, EntryPoint = "duckdb_destroy_data_chunk")]
        internal static partial void Destroy(ref IntPtr chunk);

        /// <summary>Empties the chunk for reuse; vectors' data pointers must be fetched again after.</summary>
        [LibraryImport(Library, EntryPoint = "duckdb_data_chunk_reset")]
        internal static partial void Reset(DuckDbDataChunkHandle chunk);

        [LibraryImport(Library, EntryPoint = "duckdb_data_chunk_get_column_count")]
        internal static partial ulong ColumnCount(DuckDbDataChunkHandle chunk);

        /// <returns>A vector owned by the chunk.</returns>
        [LibraryImport(Library, EntryPoint = "duckdb_data_chunk_get_vector")]
        internal static partial IntPtr Vector(DuckDbDataChunkHandle chunk, ulong column);

        /// <summary>A vector of a chunk DuckDB owns and lends (a table function's output).</summary>
        [LibraryImport(Library, EntryPoint = "duckdb_data_chunk_get_vector")]
        internal static partial IntPtr Vector(IntPtr chunk, ulong column);

        [LibraryImport(Library, EntryPoint = "duckdb_data_chunk_get_size")]
        internal static partial ulong Size(DuckDbDataChunkHandle chunk);

        [LibraryImport(Library, EntryPoint = "duckdb_data_chunk_set_size")]
        internal static partial void SetSize(DuckDbDataChunkHandle chunk, ulong size);

        [LibraryImport(Library, EntryPoint = "duckdb_data_chunk_set_size")]
        internal static partial void SetSize(IntPtr chunk, ulong size);
    }
}
