namespace Ingest.Silo.Storage.DuckDb;

/// <summary>DuckDB reported an error; the message is DuckDB's own.</summary>
public sealed class DuckDbException : Exception
{
    public DuckDbException()
    {
    }

    public DuckDbException(string message)
        : base(message)
    {
    }

    public DuckDbException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
