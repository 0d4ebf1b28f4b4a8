namespace Ingest.Contracts;

/// <summary>
/// Events read from one stream in arrival order, packed into one buffer so that a batch
/// costs a few allocations however many events it holds.
/// </summary>
/// <remarks>
/// Every event a client sends takes the next sequence number of its stream, including events
/// refused as bad input, so a client can number its events without hearing which were refused.
/// A batch covers <see cref="Entries"/> consecutive sequence numbers from <see cref="FirstSeq"/>:
/// its stored events and its rejected ones.
/// </remarks>
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
    /// <summary>
    /// Sequence number of the batch's first entry. Zero leaves it to the grain: the batch then
    /// continues the stream. A client resuming a stream sets it, and the grain drops what it holds.
    /// </summary>
    public long FirstSeq { get; init; }

    /// <summary>
    /// Where each event sits among the batch's entries, when rejected events are interleaved;
    /// null when event <c>i</c> is entry <c>i</c>.
    /// </summary>
    public int[]? Offsets { get; init; }

    /// <summary>Sequence numbers the batch covers: its events and its rejected events.</summary>
    public int Entries => Count + Rejected;

    /// <summary>Bytes of payload held by the batch.</summary>
    public int Bytes => Count == 0 ? 0 : Ends[Count - 1];

    public ReadOnlySpan<byte> this[int index] =>
        Payloads.AsSpan(Start(index), Ends[index] - Start(index));

    /// <summary>The sequence number of event <paramref name="index"/>, once <see cref="FirstSeq"/> is set.</summary>
    public long SeqOf(int index) => FirstSeq + (Offsets is null ? index : Offsets[index]);

    /// <summary>Offset in <see cref="Payloads"/> where event <paramref name="index"/> starts.</summary>
    public int Start(int index) => index == 0 ? 0 : Ends[index - 1];
}
