namespace Ingest.Grains;

/// <summary>
/// The port through which a batch becomes durable. The silo implements it; an
/// implementation may coalesce many streams' flushes into one write.
/// </summary>
public interface IEventSink
{
    /// <summary>Completes once the events and the stream's state are durable together.</summary>
    ValueTask WriteAsync(StreamFlush flush, CancellationToken cancellationToken);

    /// <summary>
    /// True when the sink commits a stream's writes in the order <see cref="WriteAsync"/> was
    /// called, and once a write of a stream has failed, refuses with <see
    /// cref="StreamConflictException"/> a later write of it that starts past where the sink holds
    /// the stream and follows that one (<see cref="StreamFlush.Follows"/>). A grain may then write
    /// a stream's next flush before its last is durable: if the last fails, the next fails too,
    /// and no gap is stored.
    /// </summary>
    bool KeepsStreamOrder => false;
}
