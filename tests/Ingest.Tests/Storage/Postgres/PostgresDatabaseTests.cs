using Ingest.Silo.Storage.Postgres;
using Ingest.Tests.Infrastructure;
using Npgsql;

namespace Ingest.Tests.Storage.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class PostgresDatabaseTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Opening_creates_the_tables_and_records_the_migration()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres);

        Assert.Equal(1, await kit.CountAsync("SELECT count(*) FROM schema_migrations WHERE version = 1 AND applied_at <= now()"));
        // Partitioned by range (of received_at).
        Assert.Equal("r", await kit.ScalarAsync<string>("SELECT partstrat::text FROM pg_partitioned_table WHERE partrelid = 'events'::regclass"));
        Assert.Equal(1, await kit.CountAsync("SELECT count(*) FROM pg_indexes WHERE tablename = 'events' AND indexdef LIKE '%(stream_id, seq)%'"));
        Assert.Equal(1, await kit.CountAsync("SELECT count(*) FROM information_schema.tables WHERE table_name = 'streams'"));
    }

    [Fact]
    public async Task Migrating_again_and_concurrently_applies_each_version_once()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var first = NpgsqlDataSource.Create(connectionString);
        await using var second = NpgsqlDataSource.Create(connectionString);

        var applied = await Task.WhenAll(
            PostgresMigrator.MigrateAsync(first, CancellationToken.None),
            PostgresMigrator.MigrateAsync(second, CancellationToken.None),
            PostgresMigrator.MigrateAsync(first, CancellationToken.None));
        var again = await PostgresMigrator.MigrateAsync(second, CancellationToken.None);

        Assert.Equal(PostgresSchema.Migrations.Select(m => m.Version), applied.SelectMany(versions => versions));
        Assert.Empty(again);
        await using var command = first.CreateCommand("SELECT count(*) FROM schema_migrations");
        Assert.Equal(PostgresSchema.Migrations.Count, Convert.ToInt32(await command.ExecuteScalarAsync()));
    }

    [Fact]
    public async Task A_wrong_password_is_named_as_the_problem_without_the_password()
    {
        const string wrong = "not-the-password-123";
        var options = new PostgresOptions { ConnectionString = postgres.Server.ConnectionStringFor("postgres", wrong) };

        var error = await Assert.ThrowsAsync<PostgresUnavailableException>(() => PostgresDatabase.OpenAsync(options));

        Assert.Equal(PostgresUnavailableReason.AuthenticationFailed, error.Reason);
        Assert.Equal(
            $"PostgreSQL at 127.0.0.1:{postgres.Server.Port} refused user 'postgres': password authentication failed (check Postgres:ConnectionString).",
            error.Message);
        Assert.DoesNotContain(wrong, error.ToString());
        Assert.DoesNotContain(postgres.Server.Password, error.ToString());
    }

    [Fact]
    public async Task A_missing_password_is_named_as_the_problem()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(postgres.Server.ConnectionString) { Password = null }.ConnectionString;

        var error = await Assert.ThrowsAsync<PostgresUnavailableException>(
            () => PostgresDatabase.OpenAsync(new PostgresOptions { ConnectionString = connectionString }));

        Assert.Equal(PostgresUnavailableReason.AuthenticationFailed, error.Reason);
        Assert.Contains("refused user 'postgres': it requires a password and none was given", error.Message);
    }

    [Fact]
    public async Task An_unreachable_server_is_named_as_the_problem_without_the_password()
    {
        var port = FreePort();
        var options = new PostgresOptions { ConnectionString = $"Host=127.0.0.1;Port={port};Username=ingest;Password=s3cret-pw;Database=ingest;Timeout=5" };

        var error = await Assert.ThrowsAsync<PostgresUnavailableException>(() => PostgresDatabase.OpenAsync(options));

        Assert.Equal(PostgresUnavailableReason.Unreachable, error.Reason);
        Assert.StartsWith($"PostgreSQL at 127.0.0.1:{port} is unreachable: ", error.Message);
        Assert.Contains("refused", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("s3cret-pw", error.ToString());
    }

    [Fact]
    public async Task A_missing_database_is_named_as_the_problem()
    {
        var options = new PostgresOptions { ConnectionString = postgres.Server.ConnectionStringFor("no_such_db") };

        var error = await Assert.ThrowsAsync<PostgresUnavailableException>(() => PostgresDatabase.OpenAsync(options));

        Assert.Equal(PostgresUnavailableReason.DatabaseMissing, error.Reason);
        Assert.Contains("has no database 'no_such_db'", error.Message);
    }

    [Fact]
    public async Task Options_that_are_not_usable_are_refused_before_connecting()
    {
        var options = new PostgresOptions { Retention = TimeSpan.FromHours(1) };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => PostgresDatabase.OpenAsync(options));

        Assert.Contains("Postgres:Retention", error.Message);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
