namespace Ingest.Silo.Storage.DuckDb;

/// <summary>
/// The query was refused or failed before any row was written: it would change state, is not
/// exactly one statement, or DuckDB could not parse, bind or start it. The message says why
/// and is meant for the user who sent the query.
/// </summary>
public sealed class QueryRejectedException : Exception
{
    public QueryRejectedException()
    {
    }

    public QueryRejectedException(string message)
        : base(message)
    {
    }

    public QueryRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
