using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Ingest.Gateway.WebSockets;

/// <summary>RFC 6455's masking: every payload byte XORed with the key's byte at its position modulo 4.</summary>
internal static class WebSocketMask
{
    /// <param name="mask">The key as it came on the wire, read little-endian.</param>
    /// <param name="offset">Where in the payload <paramref name="data"/> starts, modulo 4.</param>
    public static void Apply(Span<byte> data, int mask, int offset)
    {
        // Rotate the key so that its first byte lines up with data[0].
        var key = (uint)mask;
        key = BitOperations.RotateRight(key, offset * 8);
        var i = 0;
        if (Vector.IsHardwareAccelerated && data.Length >= Vector<byte>.Count)
        {
            var keys = new Vector<uint>(key);
            var words = MemoryMarshal.Cast<byte, Vector<uint>>(data);
            for (var w = 0; w < words.Length; w++)
                words[w] ^= keys;
            i = words.Length * Vector<byte>.Count;
        }
        var wide = ((ulong)key << 32) | key;
        for (; i + 8 <= data.Length; i += 8)
        {
            var word = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            BinaryPrimitives.WriteUInt64LittleEndian(data[i..], word ^ wide);
        }
        for (; i < data.Length; i++)
            data[i] ^= (byte)(key >> ((i & 3) * 8));
    }
}
