using Ingest.Cli.Cluster;
using Ingest.Tests.Infrastructure;
using Npgsql;

namespace Ingest.Tests.Cli.Cluster;

/// <summary>A kept PostgreSQL server: created once in its directory, started again with what it stored.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PostgresServerTests
{
    [Fact]
    public async Task A_server_opened_again_on_its_directory_has_its_data_and_password()
    {
        using var directory = new TempDirectory();
        var data = directory.File("postgres");
        var port = LoopbackPort.Free();
        string password;
        await using (var server = await PostgresServer.OpenAsync(data, port))
        {
            Assert.Equal(port, server.Port);
            password = server.Password;
            var connection = await server.EnsureDatabaseAsync("ingest");
            Assert.Equal(connection, await server.EnsureDatabaseAsync("ingest"));
            await ExecuteAsync(connection, "create table kept (n int); insert into kept values (42)");
        }
        Assert.False(LoopbackPort.IsListening(port));
        Assert.True(File.Exists(Path.Combine(data, "PG_VERSION")));

        await using (var server = await PostgresServer.OpenAsync(data))
        {
            Assert.Equal(password, server.Password);
            Assert.Equal(42, await PostgresReader.ScalarAsync(server.ConnectionStringFor("ingest"), "select n from kept"));
        }
    }

    [Fact]
    public async Task Opening_a_directory_whose_server_was_left_running_stops_that_one_first()
    {
        using var directory = new TempDirectory();
        var data = directory.File("postgres");
        // As if the process that opened it had been killed: never stopped.
        var leftover = await PostgresServer.OpenAsync(data);

        await using var server = await PostgresServer.OpenAsync(data, LoopbackPort.Free());

        Assert.False(LoopbackPort.IsListening(leftover.Port));
        Assert.Equal(1, await PostgresReader.ScalarAsync(server.ConnectionString, "select 1"));
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
