using System.Net.Sockets;
using Npgsql;

namespace Ingest.Silo.Storage.Postgres;

/// <summary>Sorts PostgreSQL failures into the ones worth waiting out and the ones that are final.</summary>
internal static class PostgresErrors
{
    /// <summary>
    /// True when the same work may succeed later unchanged: the connection was refused, reset or
    /// timed out, or the server is shutting down, starting up or short of resources.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
            || postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
            || postgres.IsTransient,
        NpgsqlException npgsql => npgsql.IsTransient || IsNetwork(npgsql.InnerException),
        _ => IsNetwork(exception),
    };

    /// <summary>Where the connection string points, as <c>host:port</c>, for messages.</summary>
    public static string Endpoint(NpgsqlConnectionStringBuilder builder) => $"{builder.Host}:{builder.Port}";

    /// <summary>The start-up failure, in words that say which problem it is and what to check.</summary>
    public static PostgresUnavailableException Describe(Exception exception, NpgsqlConnectionStringBuilder builder)
    {
        var endpoint = Endpoint(builder);
        var setting = $"check {PostgresOptions.Section}:{nameof(PostgresOptions.ConnectionString)}";
        return exception switch
        {
            PostgresException { SqlState: PostgresErrorCodes.InvalidPassword } => new(
                PostgresUnavailableReason.AuthenticationFailed,
                $"PostgreSQL at {endpoint} refused user '{builder.Username}': password authentication failed ({setting}).",
                exception),
            PostgresException { SqlState: PostgresErrorCodes.InvalidAuthorizationSpecification } postgres => new(
                PostgresUnavailableReason.AuthenticationFailed,
                $"PostgreSQL at {endpoint} refused user '{builder.Username}': {postgres.MessageText} ({setting}, and the server's pg_hba.conf).",
                exception),
            PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } => new(
                PostgresUnavailableReason.DatabaseMissing,
                $"PostgreSQL at {endpoint} has no database '{builder.Database}': create it (CREATE DATABASE \"{builder.Database}\") or {setting}.",
                exception),
            // Npgsql's own refusal before the server is asked: the server wants a password and none was given.
            NpgsqlException { InnerException: null } npgsql when npgsql is not PostgresException
                && npgsql.Message.Contains("password", StringComparison.OrdinalIgnoreCase) => new(
                PostgresUnavailableReason.AuthenticationFailed,
                $"PostgreSQL at {endpoint} refused user '{builder.Username}': it requires a password and none was given ({setting}).",
                exception),
            PostgresException postgres when !IsTransient(postgres) => new(
                PostgresUnavailableReason.Refused,
                $"PostgreSQL at {endpoint} refused to start the storage: {postgres.SqlState}: {postgres.MessageText}",
                exception),
            _ when IsTransient(exception) => new(
                PostgresUnavailableReason.Unreachable,
                $"PostgreSQL at {endpoint} is unreachable: {Reason(exception)} ({setting}, and that the server is running).",
                exception),
            _ => new(
                PostgresUnavailableReason.Refused,
                $"PostgreSQL at {endpoint} could not be used: {exception.Message}",
                exception),
        };
    }

    /// <summary>The innermost useful cause: "Connection refused" beats "Failed to connect to ...".</summary>
    public static string Reason(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException socket:
                    return $"{socket.Message} ({socket.SocketErrorCode})";
                case TimeoutException:
                    return "the connection timed out";
                case PostgresException postgres:
                    return $"{postgres.SqlState}: {postgres.MessageText}";
            }
        }
        return exception.Message;
    }

    private static bool IsNetwork(Exception? exception) =>
        exception is IOException or SocketException or TimeoutException || exception?.InnerException is IOException or SocketException or TimeoutException;
}
