namespace Ingest.Tests.Storage.Postgres;

/// <summary>A clock whose wall time a test sets; timers and timestamps stay real, so retries still run.</summary>
internal sealed class SettableClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
