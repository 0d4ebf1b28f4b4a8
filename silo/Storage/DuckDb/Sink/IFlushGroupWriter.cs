namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>Makes parts of a group of flushes durable at once; called from the sink's writer thread only.</summary>
internal interface IFlushGroupWriter : IDisposable
{
    /// <summary>Commits the parts or, on an error it throws, none of them.</summary>
    /// <returns>The events written and the streams whose rows were written.</returns>
    (long Events, int Streams) Write(List<FlushPart> parts);

    /// <summary>What <see cref="Compact"/> would tidy: rows written since it last ran; 0 when nothing.</summary>
    long Uncompacted => 0;

    /// <summary>
    /// Tidies what the writes left for later, in a transaction of its own. The sink calls it between
    /// writes, after their flushes have been acknowledged, so it never delays one.
    /// </summary>
    void Compact()
    {
    }
}
