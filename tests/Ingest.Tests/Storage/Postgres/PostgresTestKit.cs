using Ingest.Cli.Cluster;
using Ingest.Silo.Storage.Postgres;
using Ingest.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ingest.Tests.Storage.Postgres;

/// <summary>A fresh database on a real PostgreSQL server, migrated, and the storage parts opened on it.</summary>
internal sealed class PostgresTestKit : IAsyncDisposable
{
    private PostgresTestKit(string connectionString, PostgresDatabase database)
    {
        ConnectionString = connectionString;
        Database = database;
    }

    public string ConnectionString { get; }

    public PostgresDatabase Database { get; }

    public static async Task<PostgresTestKit> CreateAsync(PostgresServer server, Action<PostgresOptions>? configure = null)
    {
        var connectionString = await server.CreateDatabaseAsync();
        var options = new PostgresOptions { ConnectionString = connectionString, RetryMaxDelay = TimeSpan.FromMilliseconds(500) };
        configure?.Invoke(options);
        return new PostgresTestKit(connectionString, await PostgresDatabase.OpenAsync(options));
    }

    public static Task<PostgresTestKit> CreateAsync(PostgresFixture fixture, Action<PostgresOptions>? configure = null) =>
        CreateAsync(fixture.Server, configure);

    public PostgresEventSink Sink(TimeProvider? time = null) => new(Database, NullLogger<PostgresEventSink>.Instance, time);

    public PostgresStreamStore Store() => new(Database);

    public PostgresRetention Retention() => new(Database, NullLogger<PostgresRetention>.Instance);

    /// <summary>The first column of the first row, on a connection of its own (not the storage's pool).</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public Task<long> CountAsync(string sql) => ScalarAsync<long>(sql);

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Every row, each as its columns' values.</summary>
    public async Task<List<object?[]>> RowsAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    public async Task<List<string>> PartitionsAsync() =>
        (await RowsAsync("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY 1"))
            .Select(r => (string)r[0]!)
            .ToList();

    public async ValueTask DisposeAsync() => await Database.DisposeAsync();
}
