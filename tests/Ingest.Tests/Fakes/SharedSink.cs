using Ingest.Contracts;
using Ingest.Grains;

namespace Ingest.Tests.Fakes;

/// <summary>
/// A sink several nodes share, as PostgreSQL is in a cluster: it keeps each stream's row, and
/// refuses a write that assumes less than it holds, as the real sinks do.
/// </summary>
internal sealed class SharedSink : IEventSink
{
    public MemoryStreamStore Store { get; } = new();

    public RecordingSink Written { get; } = new();

    public int Conflicts { get; private set; }

    /// <summary>Another node's write: stored without any check.</summary>
    public async ValueTask WriteElsewhereAsync(StreamFlush flush)
    {
        await Written.WriteAsync(flush, CancellationToken.None);
        Store.States[flush.State.Key] = flush.State;
    }

    public async ValueTask WriteAsync(StreamFlush flush, CancellationToken cancellationToken)
    {
        var stored = Store.States.TryGetValue(flush.State.Key, out var row) ? row.Position : 0;
        if (flush.SinkPosition is { } expected && stored > expected)
        {
            Conflicts++;
            throw new StreamConflictException(flush.State.Key, stored, expected);
        }
        await WriteElsewhereAsync(flush);
    }
}
