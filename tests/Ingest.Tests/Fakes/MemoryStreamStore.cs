using System.Collections.Concurrent;
using Ingest.Contracts;
using Ingest.Grains;

namespace Ingest.Tests.Fakes;

/// <summary>A stream store that a test fills by hand, or from a sink's flushes.</summary>
internal sealed class MemoryStreamStore : IStreamStore
{
    public ConcurrentDictionary<StreamKey, StreamState> States { get; } = new();

    public int Loads { get; private set; }

    public ValueTask<StreamState?> LoadAsync(StreamKey key, CancellationToken cancellationToken)
    {
        Loads++;
        return ValueTask.FromResult(States.TryGetValue(key, out var state) ? state : null);
    }
}
