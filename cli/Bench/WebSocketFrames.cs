using System.Buffers.Binary;

namespace Ingest.Cli.Bench;

/// <summary>
/// Every event of a corpus as a client's WebSocket frame (one text message each, masked as RFC 6455
/// requires), back to back, built before anything is timed. A stream writes a run of consecutive
/// frames in one write when several are due, so the client spends almost nothing per message and the
/// node still reads one message per event.
/// </summary>
internal sealed class WebSocketFrames
{
    private const int Partitions = 64;

    private readonly int[] _ends;

    private WebSocketFrames(byte[] bytes, int[] ends)
    {
        Bytes = bytes;
        _ends = ends;
    }

    public byte[] Bytes { get; }

    public int Start(int index) => index == 0 ? 0 : _ends[index - 1];

    public int End(int index) => _ends[index];

    public static WebSocketFrames Build(EventCorpus corpus)
    {
        var parts = new (byte[] Bytes, int[] Ends)[Partitions];
        Parallel.For(0, Partitions, p =>
        {
            var first = (int)((long)corpus.Count * p / Partitions);
            var count = (int)((long)corpus.Count * (p + 1) / Partitions) - first;
            var random = new Random(p);
            var size = 0L;
            for (var i = 0; i < count; i++)
                size += FrameLength(corpus.Event(first + i).Length);
            var bytes = new byte[size];
            var ends = new int[count];
            var at = 0;
            for (var i = 0; i < count; i++)
            {
                at += Write(bytes.AsSpan(at), Opcode.Text, corpus.Event(first + i).Span, random.Next());
                ends[i] = at;
            }
            parts[p] = (bytes, ends);
        });

        var all = new byte[parts.Sum(p => (long)p.Bytes.Length)];
        var allEnds = new int[corpus.Count];
        int offset = 0, frame = 0;
        foreach (var (bytes, ends) in parts)
        {
            bytes.CopyTo(all, offset);
            foreach (var end in ends)
                allEnds[frame++] = offset + end;
            offset += bytes.Length;
        }
        return new WebSocketFrames(all, allEnds);
    }

    public static int FrameLength(int payload) => payload switch { < 126 => 2, <= ushort.MaxValue => 4, _ => 10 } + 4 + payload;

    /// <summary>Writes one final, masked frame into <paramref name="destination"/>; returns its length.</summary>
    public static int Write(Span<byte> destination, Opcode opcode, ReadOnlySpan<byte> payload, int mask)
    {
        destination[0] = (byte)(0x80 | (int)opcode);
        int header;
        if (payload.Length < 126)
        {
            destination[1] = (byte)(0x80 | payload.Length);
            header = 2;
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            destination[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payload.Length);
            header = 4;
        }
        else
        {
            destination[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payload.Length);
            header = 10;
        }
        Span<byte> key = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(key, mask);
        key.CopyTo(destination[header..]);
        var body = destination.Slice(header + 4, payload.Length);
        for (var i = 0; i < payload.Length; i++)
            body[i] = (byte)(payload[i] ^ key[i & 3]);
        return header + 4 + payload.Length;
    }

    internal enum Opcode
    {
        Text = 0x1,
        Binary = 0x2,
        Close = 0x8,
        Ping = 0x9,
        Pong = 0xA,
    }
}
