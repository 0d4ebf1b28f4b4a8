using System.Buffers;
using System.Buffers.Binary;

namespace Ingest.Tests.Gateway.WebSockets;

/// <summary>A client's frames as bytes on the wire (masked, as RFC 6455 requires of clients), and those bytes cut into pieces.</summary>
internal static class ClientFrames
{
    public const int Continuation = 0x0;
    public const int Text = 0x1;
    public const int Binary = 0x2;
    public const int Close = 0x8;
    public const int Ping = 0x9;
    public const int Pong = 0xA;

    public static byte[] Frame(int opcode, byte[] payload, bool final = true, bool masked = true, int firstByteExtra = 0, int mask = 0x3C5AA5C3)
    {
        var header = payload.Length switch { < 126 => 2, <= ushort.MaxValue => 4, _ => 10 };
        var frame = new byte[header + (masked ? 4 : 0) + payload.Length];
        frame[0] = (byte)((final ? 0x80 : 0) | firstByteExtra | opcode);
        var maskBit = masked ? 0x80 : 0;
        if (header == 2)
        {
            frame[1] = (byte)(maskBit | payload.Length);
        }
        else if (header == 4)
        {
            frame[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
        }
        else
        {
            frame[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
        }
        var body = header;
        if (masked)
        {
            BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(header), mask);
            body += 4;
        }
        for (var i = 0; i < payload.Length; i++)
            frame[body + i] = masked ? (byte)(payload[i] ^ (byte)(mask >> (i % 4 * 8))) : payload[i];
        return frame;
    }

    public static byte[] CloseFrame(ushort status, string reason)
    {
        var body = new byte[2 + System.Text.Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(body, status);
        System.Text.Encoding.UTF8.GetBytes(reason, body.AsSpan(2));
        return Frame(Close, body);
    }

    /// <summary><paramref name="bytes"/> as one sequence of segments of <paramref name="size"/> bytes each, as a pipe may hold them.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] bytes, int size)
    {
        if (bytes.Length == 0)
            return ReadOnlySequence<byte>.Empty;
        Segment? first = null, last = null;
        for (var at = 0; at < bytes.Length; at += size)
        {
            var piece = bytes.AsMemory(at, Math.Min(size, bytes.Length - at));
            if (last is null)
                first = last = new Segment(piece, 0);
            else
                last = last.Append(piece);
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
