using System.Globalization;
using Npgsql;

namespace Ingest.Silo.Storage.Postgres;

/// <summary>Where the PostgreSQL storage is and how it behaves; bound from the <c>Postgres</c> configuration section.</summary>
public sealed class PostgresOptions
{
    public const string Section = "Postgres";

    /// <summary>An Npgsql connection string; the database must exist, the tables are created in it.</summary>
    public string ConnectionString { get; set; } = "Host=localhost;Username=postgres;Database=ingest";

    /// <summary>How long events and idle streams' rows are kept; events go a whole day at a time.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often expired days are dropped.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Payload bytes the event sink holds waiting for the writer; a write beyond it is refused
    /// with a backpressure error at once. The group being written is not counted.
    /// </summary>
    public long MaxQueuedBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The longest wait between two attempts while PostgreSQL is unreachable.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>What is wrong with these options, in words a user can act on; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ConnectionStringProblem(ConnectionString) is { } problem)
            errors.Add($"{Section}:{nameof(ConnectionString)} {problem}");
        if (Retention < TimeSpan.FromDays(1))
            errors.Add($"{Section}:{nameof(Retention)} must be at least 1.00:00:00 (one day), as events are kept a day at a time; it is {Format(Retention)}.");
        if (RetentionInterval < TimeSpan.FromSeconds(1) || RetentionInterval > TimeSpan.FromDays(1))
            errors.Add($"{Section}:{nameof(RetentionInterval)} must be between 00:00:01 and 1.00:00:00; it is {Format(RetentionInterval)}.");
        if (MaxQueuedBytes < 1024 * 1024)
            errors.Add($"{Section}:{nameof(MaxQueuedBytes)} must be at least 1048576 (1 MiB); it is {MaxQueuedBytes}.");
        if (RetryMaxDelay < TimeSpan.FromMilliseconds(100) || RetryMaxDelay > TimeSpan.FromMinutes(5))
            errors.Add($"{Section}:{nameof(RetryMaxDelay)} must be between 00:00:00.1 and 00:05:00; it is {Format(RetryMaxDelay)}.");
        return errors;
    }

    // The connection string holds the password: only keyword names ever reach a message.
    private static string? ConnectionStringProblem(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            return "must be set, e.g. \"Host=localhost;Username=postgres;Database=ingest\".";
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            return string.IsNullOrWhiteSpace(builder.Host) ? "must name the server with Host=..." : null;
        }
        catch (ArgumentException)
        {
            return "is not a valid connection string (expected Key=Value pairs such as Host=...;Username=...;Database=...).";
        }
    }

    private static string Format(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
}
