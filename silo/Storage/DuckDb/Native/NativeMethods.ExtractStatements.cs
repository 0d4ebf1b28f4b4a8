using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

internal static partial class NativeMethods
{
    internal static partial class ExtractStatements
    {
        /// <returns>How many statements the text holds; 0 when it does not parse (see <see cref="Error"/>).</returns>
        [LibraryImport(Library, EntryPoint = "duckdb_extract_statements", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial ulong Extract(DuckDbConnectionHandle connection, string sql, out DuckDbExtractedStatementsHandle statements);

        [LibraryImport(Library, EntryPoint = "duckdb_prepare_extracted_statement")]
        internal static partial DuckDbState Prepare(
            DuckDbConnectionHandle connection, DuckDbExtractedStatementsHandle statements, ulong index, out DuckDbPreparedStatementHandle statement);

        /// <returns>A message owned by the extracted statements, or null.</returns>
        [LibraryImport(Library, EntryPoint = "duckdb_extract_statements_error")]
        internal static partial IntPtr Error(DuckDbExtractedStatementsHandle statements);

        [LibraryImport(Library, EntryPoint = "duckdb_destroy_extracted")]
        internal static partial void Destroy(ref IntPtr statements);
    }
}
