namespace Ingest.Contracts;

/// <summary>A stream's counts.</summary>
/// <param name="Stored">Events durably stored; the last stored event has this sequence number.</param>
/// <param name="Bytes">Payload bytes of the stored events.</param>
/// <param name="Rejected">Events refused as bad input.</param>
public sealed record StreamProgress(long Stored, long Bytes, long Rejected)
{
    public static readonly StreamProgress None = new(0, 0, 0);
}
