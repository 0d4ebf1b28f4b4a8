using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

internal static partial class NativeMethods
{
    /// <summary>Parameters are numbered from 1.</summary>
    internal static partial class BindValues
    {
        [LibraryImport(Library, EntryPoint = "duckdb_bind_varchar", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial DuckDbState BindVarchar(DuckDbPreparedStatementHandle statement, ulong index, string value);

        [LibraryImport(Library, EntryPoint = "duckdb_bind_int64")]
        internal static partial DuckDbState BindInt64(DuckDbPreparedStatementHandle statement, ulong index, long value);

        [LibraryImport(Library, EntryPoint = "duckdb_bind_timestamp_tz")]
        internal static partial DuckDbState BindTimestampTz(DuckDbPreparedStatementHandle statement, ulong index, DuckDbTimestamp value);

        [LibraryImport(Library, EntryPoint = "duckdb_bind_null")]
        internal static partial DuckDbState BindNull(DuckDbPreparedStatementHandle statement, ulong index);
    }
}
