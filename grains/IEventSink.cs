namespace Ingest.Grains;

/// <summary>
/// The port through which a batch becomes durable. The silo implements it; an
/// implementation may coalesce many streams' flushes into one write.
/// </summary>
public interface IEventSink
{
    /// <summary>Completes once the events and the stream's state are durable together.</summary>
    ValueTask WriteAsync(StreamFlush flush, CancellationToken cancellationToken);
}
