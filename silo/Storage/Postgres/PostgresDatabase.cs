using Ingest.Silo.Storage.Postgres.Sink;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ingest.Silo.Storage.Postgres;

/// <summary>
/// The PostgreSQL database the storage writes to: checked and migrated at start, and the source
/// of every connection the storage uses.
/// </summary>
public sealed partial class PostgresDatabase : IAsyncDisposable
{
    private PostgresDatabase(PostgresOptions options, NpgsqlDataSource dataSource, string endpoint)
    {
        Options = options;
        DataSource = dataSource;
        Endpoint = endpoint;
    }

    public PostgresOptions Options { get; }

    /// <summary>Pooled connections to the database.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>The server as <c>host:port</c>, for messages; never the password.</summary>
    public string Endpoint { get; }

    /// <summary>Connects, says clearly what is wrong if that fails, and applies the migrations the database lacks.</summary>
    /// <exception cref="ArgumentException">The options are not valid.</exception>
    /// <exception cref="PostgresUnavailableException">
    /// The server is unreachable, refused the user, lacks the database, or refused the migrations;
    /// <see cref="PostgresUnavailableException.Reason"/> says which.
    /// </exception>
    public static async Task<PostgresDatabase> OpenAsync(
        PostgresOptions options, ILogger<PostgresDatabase>? logger = null, CancellationToken cancellationToken = default)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException("The PostgreSQL options are not usable: " + string.Join(" ", errors), nameof(options));

        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString);
        if (string.IsNullOrEmpty(builder.ConnectionStringBuilder.ApplicationName))
            builder.ConnectionStringBuilder.ApplicationName = "ingest";
        var dataSource = builder.Build();
        var database = new PostgresDatabase(options, dataSource, PostgresErrors.Endpoint(builder.ConnectionStringBuilder));
        try
        {
            string version;
            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
                version = connection.PostgreSqlVersion.ToString();
            var applied = await PostgresMigrator.MigrateAsync(dataSource, cancellationToken).ConfigureAwait(false);
            var log = logger ?? NullLogger<PostgresDatabase>.Instance;
            LogOpened(log, database.Endpoint, builder.ConnectionStringBuilder.Database, version, applied.Count);
            return database;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw PostgresErrors.Describe(exception, builder.ConnectionStringBuilder);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Creates the partition of <c>events</c> for a UTC day, if it is missing. Writers create the
    /// days they need themselves; this is for loading data some other way (COPY, a restore).
    /// </summary>
    public async Task CreatePartitionAsync(DateOnly day, CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await EventPartitions.CreateAsync(connection, day, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Information, Message = "Opened PostgreSQL {Version} database {Database} at {Endpoint}; applied {Migrations} migrations")]
    private static partial void LogOpened(ILogger logger, string endpoint, string? database, string version, int migrations);
}
