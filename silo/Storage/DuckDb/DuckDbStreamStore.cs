using Ingest.Contracts;
using Ingest.Grains;

namespace Ingest.Silo.Storage.DuckDb;

/// <summary>
/// Reads a stream's row back when its grain activates. Lookups run on a couple of connections
/// of their own, so they neither wait for nor disturb the sink's writer.
/// </summary>
public sealed class DuckDbStreamStore(DuckDbDatabase database) : IStreamStore, IDisposable
{
    private const int Connections = 2;

    private readonly ConnectionPool<StreamLookup> _pool = new(Connections, () => new StreamLookup(database.Connect()));

    public async ValueTask<StreamState?> LoadAsync(StreamKey key, CancellationToken cancellationToken)
    {
        var lookup = await _pool.RentAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A primary-key lookup takes microseconds; not worth a thread hop.
            var state = lookup.Load(key);
            _pool.Return(lookup);
            return state;
        }
        catch
        {
            _pool.Discard(lookup);
            throw;
        }
    }

    public void Dispose() => _pool.Dispose();
}
