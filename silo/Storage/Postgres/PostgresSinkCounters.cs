namespace Ingest.Silo.Storage.Postgres;

/// <summary>What <see cref="PostgresEventSink"/> has done since it started; a snapshot, cheap to take and log.</summary>
/// <param name="Commits">Transactions committed, each holding every flush queued when it began.</param>
/// <param name="FailedCommits">Transactions refused for good; their flushes' writers saw the error.</param>
/// <param name="EventsWritten">Events committed.</param>
/// <param name="StreamsWritten">Stream rows committed, once per stream per commit.</param>
/// <param name="Retries">Attempts that failed on a passing problem (PostgreSQL unreachable, restarting) and were tried again.</param>
/// <param name="AlreadyCommitted">Flushes found committed when their group was retried, after a COMMIT whose answer was lost.</param>
/// <param name="QueuedBytes">Bytes waiting for the next commit right now.</param>
/// <param name="Unreachable">Whether the writer is waiting for PostgreSQL to come back right now.</param>
public readonly record struct PostgresSinkCounters(
    long Commits,
    long FailedCommits,
    long EventsWritten,
    long StreamsWritten,
    long Retries,
    long AlreadyCommitted,
    long QueuedBytes,
    bool Unreachable)
{
    public double EventsPerCommit => Commits == 0 ? 0 : (double)EventsWritten / Commits;

    public double StreamsPerCommit => Commits == 0 ? 0 : (double)StreamsWritten / Commits;
}
