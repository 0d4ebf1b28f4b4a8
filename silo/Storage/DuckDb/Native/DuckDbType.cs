namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>The <c>duckdb_type</c> values this code reads or writes.</summary>
internal enum DuckDbType
{
    Invalid = 0,
    Boolean = 1,
    BigInt = 5,
    Timestamp = 12,
    Varchar = 17,
    Blob = 18,
    TimestampTz = 31,
}
