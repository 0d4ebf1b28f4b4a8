namespace Ingest.Silo.Storage.Postgres;

/// <summary>Why PostgreSQL could not be used at start, so each case gets advice of its own.</summary>
public enum PostgresUnavailableReason
{
    /// <summary>Nothing answered: wrong host or port, server down, a firewall, DNS, or a timeout.</summary>
    Unreachable,

    /// <summary>The server refused the user: wrong password, or no <c>pg_hba.conf</c> entry.</summary>
    AuthenticationFailed,

    /// <summary>The server answered, but the database named in the connection string does not exist.</summary>
    DatabaseMissing,

    /// <summary>Anything else the server refused at start (permissions, a failed migration, ...).</summary>
    Refused,
}
