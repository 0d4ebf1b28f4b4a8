namespace Ingest.Grains;

/// <summary>What one sink holds of the stream: its row, once loaded.</summary>
internal sealed class SinkSlot(SinkPort port)
{
    public SinkPort Port { get; } = port;

    public bool Loaded { get; private set; }

    /// <summary>The sink's row; null if the sink holds nothing of the stream.</summary>
    public StreamState? Row { get; private set; }

    public long Position => Row?.Position ?? 0;

    public async ValueTask LoadAsync(Contracts.StreamKey key, CancellationToken cancellationToken)
    {
        Row = await Port.Store.LoadAsync(key, cancellationToken);
        Loaded = true;
    }

    public void Wrote(StreamState row) => Row = row;
}
