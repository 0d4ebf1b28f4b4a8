using System.Buffers;

namespace Ingest.Gateway.Bench;

/// <summary>
/// Counts the non-blank lines of newline-delimited JSON as it arrives, without parsing it: what
/// the blackhole answers with, so a client reads the same count it would from the real endpoint.
/// </summary>
internal sealed class NdjsonLineCounter
{
    private static readonly SearchValues<byte> Whitespace = SearchValues.Create(" \n\r\t"u8);

    private long _lines;
    private bool _inLine;

    /// <summary>Lines counted so far, including one still open at the end of the input.</summary>
    public long Count => _lines + (_inLine ? 1 : 0);

    public void Add(ReadOnlySpan<byte> input)
    {
        while (!input.IsEmpty)
        {
            if (!_inLine)
            {
                // Blank lines and whitespace between lines are skipped in one search.
                var start = input.IndexOfAnyExcept(Whitespace);
                if (start < 0)
                    return;
                _inLine = true;
                input = input[start..];
            }
            var newline = input.IndexOf((byte)'\n');
            if (newline < 0)
                return;
            _lines++;
            _inLine = false;
            input = input[(newline + 1)..];
        }
    }
}
