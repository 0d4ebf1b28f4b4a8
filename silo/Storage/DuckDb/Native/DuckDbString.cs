using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>
/// <c>duckdb_string_t</c>, the 16-byte element of a VARCHAR vector: a length, then either the
/// bytes themselves (up to 12) or a 4-byte prefix and a pointer to them.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal unsafe struct DuckDbString
{
    private const int InlineLength = 12;

    [FieldOffset(0)]
    private readonly uint _length;

    [FieldOffset(4)]
    private fixed byte _inlined[InlineLength];

    [FieldOffset(8)]
    private readonly byte* _pointer;

    /// <summary>The bytes; valid while the chunk that holds this element lives.</summary>
    public static ReadOnlySpan<byte> Read(DuckDbString* value)
    {
        var length = (int)value->_length;
        return length <= InlineLength
            ? new ReadOnlySpan<byte>(value->_inlined, length)
            : new ReadOnlySpan<byte>(value->_pointer, length);
    }
}
