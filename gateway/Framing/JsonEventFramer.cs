using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace Ingest.Gateway.Framing;

/// <summary>
/// Splits a body into events the way anacrolix/telemetry's server does: it reads JSON
/// values one after another, so values may be separated by any JSON whitespace, a line
/// may hold several, and a pretty-printed value may span lines. Newline-delimited JSON is
/// the common case of that. After bad input the framer drops the rest of that line and
/// carries on, so one broken line costs one event.
/// </summary>
internal sealed class JsonEventFramer(int maxEventBytes)
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 256 };
    private static readonly SearchValues<byte> JsonWhitespace = SearchValues.Create(" \n\r\t"u8);

    private bool _discarding;

    /// <summary>The line that the next unread byte is on.</summary>
    public long Line { get; private set; } = 1;

    /// <summary>Finds the next frame in <paramref name="input"/>, the not yet consumed part of the body.</summary>
    public Frame Next(ReadOnlySpan<byte> input, bool isFinalBlock)
    {
        var pos = 0;
        if (_discarding)
        {
            var newline = input.IndexOf((byte)'\n');
            if (newline < 0)
                return new Frame(isFinalBlock ? FrameKind.End : FrameKind.NeedMoreData, input.Length, 0, 0, Line, null);
            _discarding = false;
            Line++;
            pos = newline + 1;
        }

        var blank = SkipWhitespace(input[pos..]);
        Line += input.Slice(pos, blank).Count((byte)'\n');
        pos += blank;
        if (pos == input.Length)
            return new Frame(isFinalBlock ? FrameKind.End : FrameKind.NeedMoreData, pos, 0, 0, Line, null);

        var line = Line;
        var value = input[pos..];
        var scanned = JsonScanner.MeasureValue(value, isFinalBlock);
        if (scanned >= 0)
            return Measured(value, pos, scanned, line);

        var reader = new Utf8JsonReader(value, isFinalBlock, new JsonReaderState(ReaderOptions));
        try
        {
            if (!reader.Read() || ((reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) && !reader.TrySkip()))
                return Incomplete(value, pos, line, isFinalBlock);
        }
        catch (JsonException) when (isFinalBlock && OnlyWhitespaceFrom(value, (int)reader.BytesConsumed))
        {
            return Reject(pos + value.Length, line, "invalid JSON: the body ends inside a value");
        }
        catch (JsonException exception)
        {
            // Resume after the line the error is on, not the line the value began on: a
            // pretty-printed value's later lines must not be read as values of their own.
            var errorLine = StartOfLine(value, exception.LineNumber ?? 0);
            Line += exception.LineNumber ?? 0;
            _discarding = true;
            return Reject(pos + errorLine, line, $"invalid JSON: {Describe(exception)}");
        }

        return Measured(value, pos, (int)reader.BytesConsumed, line);
    }

    private Frame Measured(ReadOnlySpan<byte> value, int pos, int length, long line)
    {
        Line += value[..length].Count((byte)'\n');
        if (length > maxEventBytes)
            return Reject(pos + length, line, TooLarge(maxEventBytes));
        if (!Utf8.IsValid(value[..length]))
            return Reject(pos + length, line, "invalid UTF-8");
        return new Frame(FrameKind.Event, pos + length, pos, length, line, null);
    }

    /// <summary>Checks that a whole message is exactly one JSON value, as a WebSocket event must be.</summary>
    public static string? Validate(ReadOnlySpan<byte> message, int maxEventBytes)
    {
        if (message.Length > maxEventBytes)
            return TooLarge(maxEventBytes);
        if (!Utf8.IsValid(message))
            return "invalid UTF-8";
        var start = SkipWhitespace(message);
        if (start == message.Length)
            return "empty message: an event is one JSON value";
        var scanned = JsonScanner.MeasureValue(message[start..], isFinalBlock: true);
        if (scanned >= 0 && OnlyWhitespaceFrom(message, start + scanned))
            return null;
        var reader = new Utf8JsonReader(message, ReaderOptions);
        try
        {
            reader.Read();
            reader.Skip();
            if (!OnlyWhitespaceFrom(message, (int)reader.BytesConsumed))
                return "a message must hold exactly one JSON value";
            return null;
        }
        catch (JsonException exception)
        {
            return $"invalid JSON: {Describe(exception)}";
        }
    }

    private Frame Incomplete(ReadOnlySpan<byte> value, int pos, long line, bool isFinalBlock)
    {
        var available = value.Length;
        if (available > maxEventBytes)
        {
            _discarding = true;
            Line += value.Count((byte)'\n');
            return Reject(pos + available, line, TooLarge(maxEventBytes));
        }
        return isFinalBlock
            ? Reject(pos + available, line, "invalid JSON: the body ends inside a value")
            : new Frame(FrameKind.NeedMoreData, pos, 0, 0, line, null);
    }

    private static Frame Reject(int consumed, long line, string error) =>
        new(FrameKind.Rejected, consumed, 0, 0, line, error);

    public static string TooLarge(int limit) => $"event is over the {limit}-byte size limit";

    private static int StartOfLine(ReadOnlySpan<byte> input, long line)
    {
        var offset = 0;
        for (var i = 0; i < line; i++)
        {
            var newline = input[offset..].IndexOf((byte)'\n');
            if (newline < 0)
                break;
            offset += newline + 1;
        }
        return offset;
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> input)
    {
        var i = input.IndexOfAnyExcept(JsonWhitespace);
        return i < 0 ? input.Length : i;
    }

    private static bool OnlyWhitespaceFrom(ReadOnlySpan<byte> input, int start) =>
        !input[start..].ContainsAnyExcept(JsonWhitespace);

    /// <summary>
    /// The reader's message, made fit for a one-line answer: it quotes the offending input,
    /// which may run over lines (a bad literal is quoted to its end) and be long.
    /// </summary>
    private static string Describe(JsonException exception)
    {
        const int MaxLength = 160;
        var message = exception.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        message = (cut < 0 ? message : message[..cut]).TrimEnd(' ', '.', '|')
            .Replace("\r", "\\r", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal);
        return message.Length <= MaxLength ? message : string.Concat(message.AsSpan(0, MaxLength), "...");
    }
}
