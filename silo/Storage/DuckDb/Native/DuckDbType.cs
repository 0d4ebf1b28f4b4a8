namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>The <c>duckdb_type</c> values this code writes or checks for; DuckDB has many more.</summary>
internal enum DuckDbType
{
    Invalid = 0,
    BigInt = 5,
    Varchar = 17,
    TimestampTz = 31,
}
