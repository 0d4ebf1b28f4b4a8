namespace Ingest.Contracts;

/// <summary>A stream's durable counts.</summary>
/// <param name="Stored">Events durably stored.</param>
/// <param name="Bytes">Payload bytes of the stored events.</param>
/// <param name="Rejected">Events refused as bad input.</param>
/// <param name="Duplicates">Events dropped because the stream already held their sequence numbers.</param>
public sealed record StreamProgress(long Stored, long Bytes, long Rejected, long Duplicates)
{
    public static readonly StreamProgress None = new(0, 0, 0, 0);

    /// <summary>
    /// The last sequence number the stream has settled, stored or rejected: a resuming client
    /// sends from the next one.
    /// </summary>
    public long Position => Stored + Rejected;
}
