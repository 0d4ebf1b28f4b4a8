namespace Ingest.Contracts;

/// <summary>
/// Storage is behind and its bounded queue is full: nothing was lost, but the stream must wait
/// before sending more. The events the grain holds stay buffered and are retried.
/// </summary>
public sealed class StorageBackpressureException(string message, TimeSpan retryAfter) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
