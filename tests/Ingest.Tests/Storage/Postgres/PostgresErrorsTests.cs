using System.Net.Sockets;
using Ingest.Silo.Storage.Postgres;
using Npgsql;

namespace Ingest.Tests.Storage.Postgres;

public sealed class PostgresErrorsTests
{
    [Theory]
    [InlineData("08006", true)]
    [InlineData("57P01", true)]
    [InlineData("57P03", true)]
    [InlineData("53300", true)]
    [InlineData("22P02", false)]
    [InlineData("23505", false)]
    [InlineData("42P01", false)]
    public void Server_errors_are_transient_by_their_sqlstate(string sqlState, bool transient) =>
        Assert.Equal(transient, PostgresErrors.IsTransient(new PostgresException("message", "FATAL", "FATAL", sqlState)));

    [Fact]
    public void Network_failures_are_transient_and_the_rest_are_not()
    {
        Assert.True(PostgresErrors.IsTransient(new NpgsqlException("Exception while reading from stream", new IOException("reset"))));
        Assert.True(PostgresErrors.IsTransient(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.True(PostgresErrors.IsTransient(new TimeoutException()));
        Assert.False(PostgresErrors.IsTransient(new InvalidOperationException()));
        Assert.False(PostgresErrors.IsTransient(new ArgumentException()));
    }
}
