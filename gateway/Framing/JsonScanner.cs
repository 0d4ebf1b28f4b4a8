using System.Runtime.CompilerServices;

namespace Ingest.Gateway.Framing;

/// <summary>
/// A one-sided check of JSON's grammar (RFC 8259) for the common event, so that
/// <see cref="System.Text.Json.Utf8JsonReader"/> runs only on input this cannot vouch for. It
/// gives a value's length only when the value is certainly well formed, and otherwise nothing:
/// bad input, nesting over <see cref="MaxDepth"/>, <c>\u</c> escapes and anything unusual go to
/// the reader, which decides and words the error. It checks structure only; callers check UTF-8.
/// </summary>
/// <remarks>
/// At half the maximum WebSocket rate the reader's validation took about 8% of the machine
/// (<c>perf</c>, seventeenth session); this pass does the same work without tokens or state.
/// </remarks>
internal static class JsonScanner
{
    /// <summary>Deeper values go to the reader (its own limit is higher).</summary>
    public const int MaxDepth = 64;

    // 1 for the bytes that end a string's plain run: the quote, the backslash and control characters.
    private static readonly byte[] StringStop = CreateStringStop();

    /// <summary>The length of the JSON value that <paramref name="input"/> starts with, or -1 if it cannot vouch for one.</summary>
    /// <param name="input">Starts with the value's first byte, not with whitespace.</param>
    /// <param name="isFinalBlock">
    /// Whether nothing follows <paramref name="input"/>. If something may, a number or literal at the top
    /// level must be followed by whitespace inside it, since more digits could follow.
    /// </param>
    public static int MeasureValue(ReadOnlySpan<byte> input, bool isFinalBlock)
    {
        ulong objects = 0; // a bit per open container: 1 for an object, 0 for an array
        var depth = 0;
        var i = 0;
        bool scalar;

    Value:
        i = SkipWhitespace(input, i);
        if (i >= input.Length)
            return -1;
        scalar = false;
        switch (input[i])
        {
            case (byte)'{' or (byte)'[':
                if (depth == MaxDepth)
                    return -1;
                var isObject = input[i] == (byte)'{';
                objects = isObject ? objects | (1UL << depth) : objects & ~(1UL << depth);
                depth++;
                i = SkipWhitespace(input, i + 1);
                if (i >= input.Length)
                    return -1;
                if (input[i] == (isObject ? (byte)'}' : (byte)']'))
                {
                    depth--;
                    i++;
                    goto AfterValue;
                }
                if (isObject)
                    goto Key;
                goto Value;
            case (byte)'"':
                i = ScanString(input, i);
                if (i < 0)
                    return -1;
                goto AfterValue;
            case (byte)'t':
                i = ScanLiteral(input, i, "true"u8);
                break;
            case (byte)'f':
                i = ScanLiteral(input, i, "false"u8);
                break;
            case (byte)'n':
                i = ScanLiteral(input, i, "null"u8);
                break;
            default:
                i = ScanNumber(input, i);
                break;
        }
        if (i < 0)
            return -1;
        scalar = true;
        goto AfterValue;

    Key:
        if (input[i] != (byte)'"')
            return -1;
        i = ScanString(input, i);
        if (i < 0)
            return -1;
        i = SkipWhitespace(input, i);
        if (i >= input.Length || input[i] != (byte)':')
            return -1;
        i++;
        goto Value;

    AfterValue:
        if (depth == 0)
        {
            // A number or literal at the top level ends where its token does, which is only
            // certain if a delimiter follows; whitespace is the one the framer expects there.
            if (!scalar || (i == input.Length ? isFinalBlock : IsWhitespace(input[i])))
                return i;
            return -1;
        }
        i = SkipWhitespace(input, i);
        if (i >= input.Length)
            return -1;
        var inObject = (objects & (1UL << (depth - 1))) != 0;
        if (input[i] == (byte)',')
        {
            i = SkipWhitespace(input, i + 1);
            if (i >= input.Length)
                return -1;
            if (inObject)
                goto Key;
            goto Value;
        }
        if (input[i] == (inObject ? (byte)'}' : (byte)']'))
        {
            depth--;
            i++;
            scalar = false;
            goto AfterValue;
        }
        return -1;
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> input, int i)
    {
        while (i < input.Length && IsWhitespace(input[i]))
            i++;
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsWhitespace(byte c) => c is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t';

    /// <returns>The index after the closing quote, or -1.</returns>
    private static int ScanString(ReadOnlySpan<byte> input, int quote)
    {
        var stop = StringStop;
        var i = quote + 1;
        while (true)
        {
            while (i < input.Length && stop[input[i]] == 0)
                i++;
            if (i >= input.Length)
                return -1;
            var c = input[i];
            if (c == (byte)'"')
                return i + 1;
            if (c != (byte)'\\' || i + 1 >= input.Length)
                return -1;
            // \u escapes (and the surrogate pairs they may form) are left to the reader.
            if (input[i + 1] is not ((byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t'))
                return -1;
            i += 2;
        }
    }

    private static int ScanLiteral(ReadOnlySpan<byte> input, int i, ReadOnlySpan<byte> literal) =>
        input[i..].StartsWith(literal) ? i + literal.Length : -1;

    /// <returns>The index after the number, or -1 if it is not one.</returns>
    private static int ScanNumber(ReadOnlySpan<byte> input, int i)
    {
        if (input[i] == (byte)'-')
            i++;
        if (i >= input.Length)
            return -1;
        if (input[i] == (byte)'0')
            i++;
        else if (IsDigit(input[i]))
            i = SkipDigits(input, i + 1);
        else
            return -1;
        if (i < input.Length && input[i] == (byte)'.')
        {
            if (i + 1 >= input.Length || !IsDigit(input[i + 1]))
                return -1;
            i = SkipDigits(input, i + 2);
        }
        if (i < input.Length && input[i] is (byte)'e' or (byte)'E')
        {
            i++;
            if (i < input.Length && input[i] is (byte)'+' or (byte)'-')
                i++;
            if (i >= input.Length || !IsDigit(input[i]))
                return -1;
            i = SkipDigits(input, i + 1);
        }
        // What follows ("01", "1x") is checked where the value ends, as for any other value.
        return i;
    }

    private static int SkipDigits(ReadOnlySpan<byte> input, int i)
    {
        while (i < input.Length && IsDigit(input[i]))
            i++;
        return i;
    }

    private static bool IsDigit(byte c) => (uint)(c - '0') <= 9;

    private static byte[] CreateStringStop()
    {
        var stop = new byte[256];
        for (var c = 0; c < 0x20; c++)
            stop[c] = 1;
        stop['"'] = 1;
        stop['\\'] = 1;
        return stop;
    }
}
