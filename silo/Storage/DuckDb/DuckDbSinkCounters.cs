namespace Ingest.Silo.Storage.DuckDb;

/// <summary>What <see cref="DuckDbEventSink"/> has done since it started; a snapshot, cheap to take and log.</summary>
/// <param name="Commits">Transactions committed, each holding every flush queued when it began.</param>
/// <param name="FailedCommits">Transactions rolled back; their flushes' writers saw the error.</param>
/// <param name="EventsWritten">Events committed.</param>
/// <param name="StreamsWritten">Stream rows committed, once per stream per commit.</param>
/// <param name="LastCommitStreams">Streams in the most recent commit.</param>
/// <param name="QueuedBytes">Bytes waiting for the next commit right now.</param>
/// <param name="Checkpoints">Background checkpoints done (<see cref="DuckDbOptions.BackgroundCheckpointBytes"/>).</param>
/// <param name="CatchUpCheckpoints">Of those, the ones that caught up at the default priority and <see cref="DuckDbOptions.CatchUpZstdLevel"/>.</param>
public readonly record struct DuckDbSinkCounters(
    long Commits,
    long FailedCommits,
    long EventsWritten,
    long StreamsWritten,
    int LastCommitStreams,
    long QueuedBytes,
    long Checkpoints,
    long CatchUpCheckpoints)
{
    public double StreamsPerCommit => Commits == 0 ? 0 : (double)StreamsWritten / Commits;

    public double EventsPerCommit => Commits == 0 ? 0 : (double)EventsWritten / Commits;
}
