using System.Buffers;

namespace Ingest.Cli.Bench;

/// <summary>
/// Every event of a <c>bench node</c> run as one newline-delimited JSON buffer, generated before
/// anything is timed. POST bodies are slices of it and WebSocket messages are its lines without
/// the newline, so what the client sends costs no generating and no copying.
/// </summary>
internal sealed class EventCorpus
{
    private const int Partitions = 64;

    private readonly int[] _lineEnds;
    private WebSocketFrames? _frames;

    private EventCorpus(byte[] ndjson, int[] lineEnds)
    {
        Ndjson = ndjson;
        _lineEnds = lineEnds;
    }

    /// <summary>The events as WebSocket frames, once <see cref="BuildFrames"/> has made them.</summary>
    public WebSocketFrames Frames => _frames ?? throw new InvalidOperationException("The events have no WebSocket frames: build them before the run.");

    /// <summary>The events, each followed by <c>\n</c>.</summary>
    public byte[] Ndjson { get; }

    public int Count => _lineEnds.Length;

    /// <summary>Bytes of ndjson, newlines included: what MiB/s is counted in.</summary>
    public long Bytes => Ndjson.Length;

    /// <summary>One of the events, to show what was sent.</summary>
    public string Sample => System.Text.Encoding.UTF8.GetString(Event(0).Span);

    /// <summary>Event <paramref name="index"/> without its newline: a WebSocket message.</summary>
    public ReadOnlyMemory<byte> Event(int index) => Ndjson.AsMemory(LineStart(index), _lineEnds[index] - 1 - LineStart(index));

    /// <summary>Where <paramref name="count"/> lines from <paramref name="first"/> sit in <see cref="Ndjson"/>: a POST body.</summary>
    public (int Offset, int Length) Lines(int first, int count) => (LineStart(first), _lineEnds[first + count - 1] - LineStart(first));

    /// <summary>Stream <paramref name="stream"/>'s consecutive share of the events when <paramref name="streams"/> send them.</summary>
    public (int First, int Count) Share(int stream, int streams)
    {
        var first = (int)((long)Count * stream / streams);
        return (first, (int)((long)Count * (stream + 1) / streams) - first);
    }

    /// <summary>Makes <see cref="Frames"/>, before anything is timed.</summary>
    public EventCorpus BuildFrames()
    {
        _frames ??= WebSocketFrames.Build(this);
        return this;
    }

    /// <exception cref="ArgumentException">The events would not fit in one buffer.</exception>
    public static EventCorpus Generate(int events, int eventSize, BenchShape shape, DateTimeOffset at)
    {
        if ((long)events * (eventSize + 64) > Array.MaxLength)
            throw new ArgumentException($"{events:N0} events of {eventSize} bytes do not fit in one 2 GiB buffer; send fewer or smaller events.");
        var parts = new (byte[] Bytes, int[] Ends)[Partitions];
        Parallel.For(0, Partitions, p =>
        {
            var first = (int)((long)events * p / Partitions);
            var count = (int)((long)events * (p + 1) / Partitions) - first;
            var random = new Random(p);
            var buffer = new ArrayBufferWriter<byte>(Math.Max(1, count) * (eventSize + 8));
            var ends = new int[count];
            for (var i = 0; i < count; i++)
            {
                BenchEventWriter.Write(buffer, random, first + i, first + i, at, eventSize, shape);
                buffer.Write("\n"u8);
                ends[i] = buffer.WrittenCount;
            }
            parts[p] = (buffer.WrittenSpan.ToArray(), ends);
        });

        var ndjson = new byte[parts.Sum(p => (long)p.Bytes.Length)];
        var lineEnds = new int[events];
        int offset = 0, line = 0;
        foreach (var (bytes, ends) in parts)
        {
            bytes.CopyTo(ndjson, offset);
            foreach (var end in ends)
                lineEnds[line++] = offset + end;
            offset += bytes.Length;
        }
        return new EventCorpus(ndjson, lineEnds);
    }

    private int LineStart(int index) => index == 0 ? 0 : _lineEnds[index - 1];
}
