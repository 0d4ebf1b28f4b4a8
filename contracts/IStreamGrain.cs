namespace Ingest.Contracts;

/// <summary>
/// One stream's grain. Calls to one key run one at a time, in order. Events become durable
/// in batches; <see cref="IStreamObserver"/> hears of each batch.
/// </summary>
public interface IStreamGrain
{
    /// <summary>Records the stream's metadata; the first open of a key wins.</summary>
    ValueTask<StreamProgress> OpenAsync(StreamOpened opened);

    /// <summary>Buffers events; they are durable once a later progress report covers them.</summary>
    ValueTask AppendAsync(EventBatch batch);

    /// <summary>Makes everything appended so far durable.</summary>
    ValueTask<StreamProgress> FlushAsync();

    /// <summary>Makes everything durable and records the close time.</summary>
    ValueTask<StreamProgress> CloseAsync(DateTimeOffset closedAt);
}
