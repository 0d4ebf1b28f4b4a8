using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

internal static partial class NativeMethods
{
    internal static partial class Query
    {
        /// <remarks>The result must be destroyed whether or not the query succeeded; it holds the error.</remarks>
        [LibraryImport(Library, EntryPoint = "duckdb_query", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial DuckDbState Execute(DuckDbConnectionHandle connection, string sql, DuckDbResultHandle result);

        [LibraryImport(Library, EntryPoint = "duckdb_destroy_result")]
        internal static partial void DestroyResult(IntPtr result);

        /// <returns>A message owned by the result, or null.</returns>
        [LibraryImport(Library, EntryPoint = "duckdb_result_error")]
        internal static partial IntPtr ResultError(DuckDbResultHandle result);

        [LibraryImport(Library, EntryPoint = "duckdb_column_count")]
        internal static partial ulong ColumnCount(DuckDbResultHandle result);

        /// <returns>A name owned by the result.</returns>
        [LibraryImport(Library, EntryPoint = "duckdb_column_name")]
        internal static partial IntPtr ColumnName(DuckDbResultHandle result, ulong column);

        /// <summary>
        /// The next chunk of a streaming or materialised result; null once it is exhausted or
        /// has failed (then <see cref="ResultError"/> says why). Takes the result struct by value.
        /// </summary>
        [LibraryImport(Library, EntryPoint = "duckdb_fetch_chunk")]
        internal static partial DuckDbDataChunkHandle FetchChunk(DuckDbResult result);
    }
}
