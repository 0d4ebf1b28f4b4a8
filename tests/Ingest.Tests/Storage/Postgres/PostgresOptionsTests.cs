using Ingest.Silo.Storage.Postgres;

namespace Ingest.Tests.Storage.Postgres;

public sealed class PostgresOptionsTests
{
    [Fact]
    public void Defaults_are_usable()
    {
        var options = new PostgresOptions();

        Assert.Equal("Host=localhost;Username=postgres;Database=ingest", options.ConnectionString);
        Assert.Equal(TimeSpan.FromDays(30), options.Retention);
        Assert.Equal(TimeSpan.FromHours(1), options.RetentionInterval);
        Assert.Equal(64L * 1024 * 1024, options.MaxQueuedBytes);
        Assert.Equal(TimeSpan.FromSeconds(10), options.RetryMaxDelay);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Each_problem_is_named_with_its_configuration_key()
    {
        var options = new PostgresOptions
        {
            ConnectionString = "",
            Retention = TimeSpan.FromHours(2),
            RetentionInterval = TimeSpan.Zero,
            MaxQueuedBytes = 10,
            RetryMaxDelay = TimeSpan.FromHours(1),
        };

        var errors = options.Validate();

        Assert.Equal(5, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("Postgres:ConnectionString must be set", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Postgres:Retention must be at least", StringComparison.Ordinal) && e.Contains("02:00:00"));
        Assert.Contains(errors, e => e.StartsWith("Postgres:RetentionInterval", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Postgres:MaxQueuedBytes", StringComparison.Ordinal) && e.Contains("10"));
        Assert.Contains(errors, e => e.StartsWith("Postgres:RetryMaxDelay", StringComparison.Ordinal));
    }

    [Fact]
    public void A_malformed_connection_string_is_refused_without_repeating_it()
    {
        var options = new PostgresOptions { ConnectionString = "Host=db;Password=hunter2;Frobnicate=yes" };

        var error = Assert.Single(options.Validate());

        Assert.StartsWith("Postgres:ConnectionString is not a valid connection string", error);
        Assert.DoesNotContain("hunter2", error);
    }
}
