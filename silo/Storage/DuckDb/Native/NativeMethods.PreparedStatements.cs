using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

internal static partial class NativeMethods
{
    internal static partial class PreparedStatements
    {
        /// <remarks>The statement must be destroyed even when preparing failed; it holds the error.</remarks>
        [LibraryImport(Library, EntryPoint = "duckdb_prepare", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial DuckDbState Prepare(DuckDbConnectionHandle connection, string sql, out DuckDbPreparedStatementHandle statement);

        [LibraryImport(Library, EntryPoint = "duckdb_destroy_prepare")]
        internal static partial void Destroy(ref IntPtr statement);

        /// <returns>A message owned by the statement, or null.</returns>
        [LibraryImport(Library, EntryPoint = "duckdb_prepare_error")]
        internal static partial IntPtr Error(DuckDbPreparedStatementHandle statement);

        [LibraryImport(Library, EntryPoint = "duckdb_prepared_statement_type")]
        internal static partial DuckDbStatementType StatementType(DuckDbPreparedStatementHandle statement);

        [LibraryImport(Library, EntryPoint = "duckdb_prepared_statement_column_count")]
        internal static partial ulong ColumnCount(DuckDbPreparedStatementHandle statement);

        /// <returns>
        /// A copy the caller frees with <see cref="Helpers.Free"/>: the header says <c>const char*</c>
        /// but the implementation returns <c>strdup</c>.
        /// </returns>
        [LibraryImport(Library, EntryPoint = "duckdb_prepared_statement_column_name")]
        internal static partial IntPtr ColumnName(DuckDbPreparedStatementHandle statement, ulong column);

        [LibraryImport(Library, EntryPoint = "duckdb_prepared_statement_column_type")]
        internal static partial DuckDbType ColumnType(DuckDbPreparedStatementHandle statement, ulong column);

        [LibraryImport(Library, EntryPoint = "duckdb_execute_prepared")]
        internal static partial DuckDbState Execute(DuckDbPreparedStatementHandle statement, DuckDbResultHandle result);

        // Deprecated in the 1.x header but still the way to get a result that is produced as it is read.
        [LibraryImport(Library, EntryPoint = "duckdb_execute_prepared_streaming")]
        internal static partial DuckDbState ExecuteStreaming(DuckDbPreparedStatementHandle statement, DuckDbResultHandle result);
    }
}
