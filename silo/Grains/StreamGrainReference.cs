using Ingest.Contracts;

namespace Ingest.Silo.Grains;

/// <summary>What a caller holds instead of the grain: every call becomes a turn of the key's activation.</summary>
internal sealed class StreamGrainReference(StreamSilo silo, StreamKey key) : IStreamGrain
{
    public ValueTask<StreamProgress> OpenAsync(StreamOpened opened) =>
        silo.InvokeAsync(key, grain => grain.OpenAsync(opened));

    public async ValueTask AppendAsync(EventBatch batch) =>
        await silo.InvokeAsync(key, async grain =>
        {
            await grain.AppendAsync(batch);
            return true;
        });

    public ValueTask<StreamProgress> FlushAsync() =>
        silo.InvokeAsync(key, static grain => grain.FlushAsync());

    public ValueTask<StreamProgress> CloseAsync(DateTimeOffset closedAt) =>
        silo.InvokeAsync(key, grain => grain.CloseAsync(closedAt));

    public ValueTask<StreamProgress?> GetProgressAsync() =>
        silo.InvokeAsync(key, static grain => grain.GetProgressAsync());
}
