using System.Text;
using Ingest.Gateway.Framing;

namespace Ingest.Tests.Gateway.Framing;

public sealed class JsonEventFramerTests
{
    [Fact]
    public void Newline_delimited_events_are_split_without_their_line_endings()
    {
        var frames = FrameAll("{\"a\":1}\n{\"b\":2}\r\n\n[1,2]\n\"text\"\n42\ntrue");

        Assert.Equal(["{\"a\":1}", "{\"b\":2}", "[1,2]", "\"text\"", "42", "true"], Events(frames));
    }

    [Fact]
    public void Values_are_framed_as_JSON_so_a_line_may_hold_several_and_a_value_may_span_lines()
    {
        var frames = FrameAll("{\"a\":1} {\"b\":2}{\"c\":3}\n{\n  \"d\": 4\n}\n");

        Assert.Equal(["{\"a\":1}", "{\"b\":2}", "{\"c\":3}", "{\n  \"d\": 4\n}"], Events(frames));
    }

    [Fact]
    public void A_broken_line_is_one_rejection_and_the_lines_around_it_are_kept()
    {
        var frames = FrameAll("{\"a\":1}\n{\"b\": tru}\nnot json at all\n{\"c\":3}\n");

        Assert.Equal(["{\"a\":1}", "{\"c\":3}"], Events(frames));
        var rejected = frames.Where(f => f.Kind == FrameKind.Rejected).ToList();
        Assert.Equal([2L, 3L], rejected.Select(f => f.Line));
        Assert.All(rejected, f => Assert.StartsWith("invalid JSON", f.Error));
    }

    [Fact]
    public void A_broken_pretty_printed_value_does_not_leak_its_inner_lines_as_events()
    {
        var frames = FrameAll("{\n  \"a\": 1,\n  \"b\": oops\n}\n{\"c\":3}\n");

        Assert.DoesNotContain(Events(frames), e => e.Contains("\"b\"", StringComparison.Ordinal));
        Assert.Contains("{\"c\":3}", Events(frames));
    }

    [Fact]
    public void An_event_over_the_limit_is_rejected_and_the_next_line_is_kept()
    {
        var big = "{\"x\":\"" + new string('a', 100) + "\"}";
        var frames = FrameAll(big + "\n{\"ok\":1}\n", maxEventBytes: 50);

        Assert.Equal(["{\"ok\":1}"], Events(frames));
        Assert.Contains("size limit", Assert.Single(frames, f => f.Kind == FrameKind.Rejected).Error);
    }

    [Fact]
    public void An_oversized_event_that_never_completes_in_the_buffer_is_rejected_without_buffering_it()
    {
        var framer = new JsonEventFramer(maxEventBytes: 16);
        var frame = framer.Next("{\"x\":\"aaaaaaaaaaaaaaaaaaaaaaaaa"u8, isFinalBlock: false);

        Assert.Equal(FrameKind.Rejected, frame.Kind);
        Assert.Equal(FrameKind.NeedMoreData, framer.Next("aaaaaaa"u8, isFinalBlock: false).Kind);
        var rest = framer.Next("aa\"}\n{\"ok\":1}"u8, isFinalBlock: true);
        Assert.Equal(FrameKind.Event, rest.Kind);
    }

    [Fact]
    public void Invalid_UTF8_is_rejected()
    {
        byte[] input = [.. "{\"a\":\""u8, 0xff, 0xfe, .. "\"}\n{\"b\":1}"u8];

        var frames = FrameAll(input, 1024);

        Assert.Equal(["{\"b\":1}"], Events(frames));
        Assert.Single(frames, f => f.Kind == FrameKind.Rejected);
    }

    [Fact]
    public void A_body_that_ends_inside_a_value_rejects_only_that_value()
    {
        var frames = FrameAll("{\"a\":1}\n{\"b\":");

        Assert.Equal(["{\"a\":1}"], Events(frames));
        Assert.Contains("ends inside a value", Assert.Single(frames, f => f.Kind == FrameKind.Rejected).Error);
    }

    [Fact]
    public void A_value_split_across_reads_waits_for_the_rest()
    {
        var framer = new JsonEventFramer(1024);

        var first = framer.Next("{\"a\":"u8, isFinalBlock: false);
        Assert.Equal(FrameKind.NeedMoreData, first.Kind);
        Assert.Equal(0, first.Consumed);
        Assert.Equal(FrameKind.NeedMoreData, framer.Next("12"u8, isFinalBlock: false).Kind);
        Assert.Equal(FrameKind.Event, framer.Next("12\n"u8, isFinalBlock: false).Kind);
    }

    [Theory]
    [InlineData("{\"a\":1}", null)]
    [InlineData(" {\"a\":1}\n", null)]
    [InlineData("{\"a\":1} {\"b\":2}", "a message must hold exactly one JSON value")]
    [InlineData("{\"a\":", "invalid JSON")]
    [InlineData("", "empty message")]
    public void A_WebSocket_message_must_be_exactly_one_JSON_value(string message, string? error)
    {
        var result = JsonEventFramer.Validate(Encoding.UTF8.GetBytes(message), 1024);

        if (error is null)
            Assert.Null(result);
        else
            Assert.StartsWith(error, result);
    }

    private static List<Framed> FrameAll(string input, int maxEventBytes = 1024) => FrameAll(Encoding.UTF8.GetBytes(input), maxEventBytes);

    /// <summary>Feeds the input through as one final block and collects every frame with its text.</summary>
    private static List<Framed> FrameAll(byte[] input, int maxEventBytes)
    {
        var framer = new JsonEventFramer(maxEventBytes);
        var frames = new List<Framed>();
        var offset = 0;
        while (true)
        {
            var frame = framer.Next(input.AsSpan(offset), isFinalBlock: true);
            if (frame.Kind == FrameKind.End)
                return frames;
            var text = frame.Kind == FrameKind.Event ? Encoding.UTF8.GetString(input, offset + frame.Start, frame.Length) : "";
            frames.Add(new Framed(frame.Kind, frame.Line, frame.Error, text));
            offset += frame.Consumed;
        }
    }

    private static List<string> Events(List<Framed> frames) =>
        frames.Where(f => f.Kind == FrameKind.Event).Select(f => f.Text).ToList();

    private sealed record Framed(FrameKind Kind, long Line, string? Error, string Text);
}
