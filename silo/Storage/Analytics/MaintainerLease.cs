using System.Data;
using Ingest.Silo.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ingest.Silo.Storage.Analytics;

/// <summary>
/// Makes this node the analytics maintainer while it holds a session-level advisory lock, on a
/// connection of its own that is never pooled: the lock lasts exactly as long as the connection,
/// and whoever loses the connection loses the lock and can commit nothing more through it.
/// </summary>
internal sealed partial class MaintainerLease : IAsyncDisposable
{
    /// <summary>Names the connection in <c>pg_stat_activity</c>.</summary>
    public const string ApplicationName = "ingest-analytics-maintainer";

    // Without keepalives the server notices a vanished node only after the OS default (hours),
    // and keeps the lock for it all that time.
    private const string KeepAliveSql = "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3";

    private readonly string _connectionString;
    private readonly ILogger _logger;
    private NpgsqlConnection? _connection;
    private bool _held;

    public MaintainerLease(string connectionString, ILogger logger)
    {
        _connectionString = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, ApplicationName = ApplicationName }.ConnectionString;
        _logger = logger;
    }

    /// <summary>False once the connection broke; then <see cref="DropAsync"/> and try again later.</summary>
    public bool IsHealthy => _connection?.FullState == ConnectionState.Open;

    /// <summary>The connection that holds the lock, or null while another node holds it.</summary>
    public async Task<NpgsqlConnection?> AcquireAsync(CancellationToken cancellationToken)
    {
        if (_connection is null)
        {
            var connection = new NpgsqlConnection(_connectionString);
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using var keepAlive = new NpgsqlCommand(KeepAliveSql, connection);
                await keepAlive.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            _connection = connection;
        }
        if (_held)
            return _connection;

        // Taken at most once per connection: a session lock taken twice must be released twice.
        await using var take = new NpgsqlCommand("SELECT pg_try_advisory_lock(@lock)", _connection);
        take.Parameters.AddWithValue("lock", PostgresSchema.AnalyticsMaintenanceLock);
        _held = await take.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
        if (!_held)
            return null;
        LogAcquired();
        return _connection;
    }

    /// <summary>Closes the connection, which releases the lock if the server still had it.</summary>
    public async Task DropAsync()
    {
        var connection = _connection;
        var held = _held;
        _connection = null;
        _held = false;
        if (connection is null)
            return;
        await connection.DisposeAsync().ConfigureAwait(false);
        if (held)
            LogReleased();
    }

    public ValueTask DisposeAsync() => new(DropAsync());

    [LoggerMessage(Level = LogLevel.Information, Message = "This node is now the analytics maintainer")]
    private partial void LogAcquired();

    [LoggerMessage(Level = LogLevel.Information, Message = "This node is no longer the analytics maintainer")]
    private partial void LogReleased();
}
