namespace Ingest.Contracts;

/// <summary>
/// One stream's grain. Calls to one key run one at a time, in order. Events become durable
/// in batches; <see cref="IStreamObserver"/> hears of each batch.
/// </summary>
public interface IStreamGrain
{
    /// <summary>
    /// Records the stream's metadata (the first open of a key wins) and makes anything the
    /// stream already holds durable, so the answer is where a resuming client sends from.
    /// </summary>
    ValueTask<StreamProgress> OpenAsync(StreamOpened opened);

    /// <summary>
    /// Buffers events; they are durable once a later progress report covers them. Events whose
    /// sequence numbers the stream already holds are dropped and counted as duplicates.
    /// </summary>
    /// <exception cref="StreamSequenceException">The batch would leave a gap in the stream.</exception>
    /// <exception cref="StorageBackpressureException">Storage is behind; wait, then flush.</exception>
    ValueTask AppendAsync(EventBatch batch);

    /// <summary>Makes everything appended so far durable.</summary>
    ValueTask<StreamProgress> FlushAsync();

    /// <summary>Makes everything durable and records the close time.</summary>
    ValueTask<StreamProgress> CloseAsync(DateTimeOffset closedAt);

    /// <summary>The stream's durable counts; null if it was never opened.</summary>
    ValueTask<StreamProgress?> GetProgressAsync();
}
