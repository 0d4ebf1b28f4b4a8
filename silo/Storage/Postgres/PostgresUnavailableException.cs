namespace Ingest.Silo.Storage.Postgres;

/// <summary>
/// PostgreSQL could not be opened at start. The message says which problem it is and which setting
/// to check; it names the server and user but never holds the password.
/// </summary>
public sealed class PostgresUnavailableException(PostgresUnavailableReason reason, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    public PostgresUnavailableReason Reason { get; } = reason;
}
