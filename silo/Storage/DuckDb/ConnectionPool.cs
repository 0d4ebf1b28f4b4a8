namespace Ingest.Silo.Storage.DuckDb;

/// <summary>
/// A few DuckDB connections (or things built on one), each used by one caller at a time,
/// because a connection is not safe for concurrent use. Created on first need.
/// </summary>
internal sealed class ConnectionPool<T>(int size, Func<T> create) : IDisposable
    where T : class, IDisposable
{
    private readonly SemaphoreSlim _slots = new(size, size);
    private readonly Stack<T> _idle = new();
    private bool _disposed;

    public async ValueTask<T> RentAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_idle)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_idle.TryPop(out var item))
                    return item;
            }
            return create();
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    public void Return(T item)
    {
        lock (_idle)
        {
            if (_disposed)
                item.Dispose();
            else
                _idle.Push(item);
        }
        _slots.Release();
    }

    /// <summary>Gives back a slot whose item is in an unknown state; a fresh one is made when next needed.</summary>
    public void Discard(T item)
    {
        item.Dispose();
        _slots.Release();
    }

    public void Dispose()
    {
        lock (_idle)
        {
            _disposed = true;
            while (_idle.TryPop(out var item))
                item.Dispose();
        }
    }
}
