using Ingest.Silo.Storage.DuckDb;

namespace Ingest.Tests.Storage.DuckDb;

public sealed class ConnectionPoolTests
{
    [Fact]
    public async Task A_caller_waits_while_every_item_is_out_and_gets_the_returned_one()
    {
        var created = 0;
        using var pool = new ConnectionPool<Item>(2, () => new Item(++created));
        var first = await pool.RentAsync(CancellationToken.None);
        await pool.RentAsync(CancellationToken.None);

        var third = pool.RentAsync(CancellationToken.None).AsTask();
        Assert.False(third.IsCompleted);
        pool.Return(first);

        Assert.Same(first, await third);
        Assert.Equal(2, created);
    }

    [Fact]
    public async Task A_discarded_item_is_disposed_and_replaced()
    {
        var created = 0;
        using var pool = new ConnectionPool<Item>(1, () => new Item(++created));
        var item = await pool.RentAsync(CancellationToken.None);

        pool.Discard(item);
        var next = await pool.RentAsync(CancellationToken.None);

        Assert.True(item.Disposed);
        Assert.Equal(2, next.Id);
    }

    [Fact]
    public async Task Waiting_can_be_cancelled()
    {
        using var pool = new ConnectionPool<Item>(1, () => new Item(1));
        await pool.RentAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pool.RentAsync(cancel.Token).AsTask());
    }

    private sealed class Item(int id) : IDisposable
    {
        public int Id => id;

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }
}
