namespace Ingest.Contracts;

/// <summary>
/// Events read from one stream in arrival order, packed into one buffer so that a batch
/// costs a few allocations however many events it holds.
/// </summary>
/// <param name="Payloads">The events' bytes back to back: event <c>i</c> ends at <c>Ends[i]</c>.</param>
/// <param name="Ends">Exclusive end offset of each event in <paramref name="Payloads"/>.</param>
/// <param name="Count">How many entries of <paramref name="Ends"/> are events.</param>
/// <param name="Rejected">Events of this stretch of the stream that were refused as bad input.</param>
public sealed record EventBatch(
    byte[] Payloads,
    int[] Ends,
    int Count,
    int Rejected,
    DateTimeOffset ReceivedAt)
{
    /// <summary>Bytes of payload held by the batch.</summary>
    public int Bytes => Count == 0 ? 0 : Ends[Count - 1];

    public ReadOnlySpan<byte> this[int index] =>
        Payloads.AsSpan(index == 0 ? 0 : Ends[index - 1], Ends[index] - (index == 0 ? 0 : Ends[index - 1]));
}
