using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

internal static partial class NativeMethods
{
    internal static partial class Appender
    {
        /// <remarks>The appender must be destroyed even when creating it failed; it holds the error.</remarks>
        [LibraryImport(Library, EntryPoint = "duckdb_appender_create_ext", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial DuckDbState Create(
            DuckDbConnectionHandle connection, string? catalog, string? schema, string table, out DuckDbAppenderHandle appender);

        /// <summary>
        /// An appender whose rows, at each flush, become the table <paramref name="tableName"/> of
        /// <paramref name="query"/> (an INSERT, UPDATE, DELETE or MERGE) and run it.
        /// </summary>
        /// <param name="types">One <c>duckdb_logical_type</c> per appended column.</param>
        /// <param name="columnNames">One UTF-8 name per column, or null for col1, col2, ...</param>
        /// <remarks>The appender must be destroyed even when creating it failed; it holds the error.</remarks>
        [LibraryImport(Library, EntryPoint = "duckdb_appender_create_query", StringMarshalling = StringMarshalling.Utf8)]
        internal static unsafe partial DuckDbState CreateQuery(
            DuckDbConnectionHandle connection, string query, ulong columnCount, IntPtr* types, string tableName, byte** columnNames,
            out DuckDbAppenderHandle appender);

        /// <returns>A message owned by the appender, or null.</returns>
        [LibraryImport(Library, EntryPoint = "duckdb_appender_error")]
        internal static partial IntPtr Error(DuckDbAppenderHandle appender);

        [LibraryImport(Library, EntryPoint = "duckdb_appender_column_count")]
        internal static partial ulong ColumnCount(DuckDbAppenderHandle appender);

        [LibraryImport(Library, EntryPoint = "duckdb_appender_column_type")]
        internal static partial DuckDbLogicalTypeHandle ColumnType(DuckDbAppenderHandle appender, ulong column);

        [LibraryImport(Library, EntryPoint = "duckdb_append_data_chunk")]
        internal static partial DuckDbState AppendDataChunk(DuckDbAppenderHandle appender, DuckDbDataChunkHandle chunk);

        [LibraryImport(Library, EntryPoint = "duckdb_appender_flush")]
        internal static partial DuckDbState Flush(DuckDbAppenderHandle appender);

        /// <remarks>Flushes what is left first; a failure there is lost, so flush explicitly before.</remarks>
        [LibraryImport(Library, EntryPoint = "duckdb_appender_destroy")]
        internal static partial DuckDbState Destroy(ref IntPtr appender);
    }
}
