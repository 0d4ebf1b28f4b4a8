namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// Which of the two event tables (<see cref="DuckDbSchema.EventTables"/>) the writer appends to,
/// and the hand-over between the writer and the checkpointer: the checkpointer moves the writer to
/// the other half, waits until a commit has gone there, and only then checkpoints the half the
/// writer left. Thread-safe.
/// </summary>
internal sealed class EventHalves
{
    private readonly object _gate = new();
    private long _generation;
    private long _committed = -1;

    /// <summary>The generation to append in now: its table is <see cref="TableOf"/>.</summary>
    public long Current => Interlocked.Read(ref _generation);

    public static string TableOf(long generation) => DuckDbSchema.EventTables[(int)(generation & 1)];

    /// <summary>Called by the writer once a commit appended in <paramref name="generation"/>.</summary>
    public void Committed(long generation)
    {
        if (Interlocked.Read(ref _committed) >= generation)
            return;
        lock (_gate)
        {
            if (_committed < generation)
                Interlocked.Exchange(ref _committed, generation);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Sends the writer's next appends to the other half.</summary>
    /// <returns>The new generation, to wait for with <see cref="WaitForCommit"/>.</returns>
    public long Switch() => Interlocked.Increment(ref _generation);

    /// <summary>Waits until a commit has appended in <paramref name="generation"/>, or the time is up.</summary>
    /// <returns>False when the time ran out first: the writer had nothing to write.</returns>
    public bool WaitForCommit(long generation, TimeSpan timeout)
    {
        lock (_gate)
        {
            var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (_committed < generation)
            {
                var left = deadline - Environment.TickCount64;
                if (left <= 0 || !Monitor.Wait(_gate, TimeSpan.FromMilliseconds(left)))
                    return _committed >= generation;
            }
            return true;
        }
    }
}
