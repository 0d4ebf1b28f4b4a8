namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>Makes a group of flushes durable at once; called from the sink's writer thread only.</summary>
internal interface IFlushGroupWriter : IDisposable
{
    /// <summary>
    /// Commits the group's flushes or, on an error it throws, none of them. A flush it refuses on
    /// its own (a conflict) it faults and leaves out, and the rest still commit.
    /// </summary>
    /// <returns>The events written and the streams whose rows were written.</returns>
    (long Events, int Streams) Write(List<PendingFlush> group);
}
