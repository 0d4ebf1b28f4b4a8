using System.Buffers.Binary;
using Ingest.Cli.Bench;

namespace Ingest.Tests.Cli.Bench;

public sealed class WebSocketFramesTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    public void A_frame_is_final_masked_and_unmasks_to_the_payload(int length)
    {
        var payload = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        var frame = new byte[WebSocketFrames.FrameLength(length)];

        var written = WebSocketFrames.Write(frame, WebSocketFrames.Opcode.Text, payload, 0x12345678);

        Assert.Equal(frame.Length, written);
        Assert.Equal(0x81, frame[0]);
        Assert.Equal(0x80, frame[1] & 0x80);
        var (size, header) = (frame[1] & 0x7F) switch
        {
            126 => (BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(2)), 4),
            127 => ((long)BinaryPrimitives.ReadUInt64BigEndian(frame.AsSpan(2)), 10),
            var small => (small, 2),
        };
        Assert.Equal(length, size);
        var mask = frame.AsSpan(header, 4).ToArray();
        var unmasked = frame.AsSpan(header + 4).ToArray().Select((b, i) => (byte)(b ^ mask[i % 4])).ToArray();
        Assert.Equal(payload, unmasked);
    }

    [Fact]
    public void A_corpus_s_frames_hold_its_events_back_to_back()
    {
        var corpus = EventCorpus.Generate(300, 200, BenchShape.Wide, DateTimeOffset.UtcNow).BuildFrames();

        for (var i = 0; i < corpus.Count; i++)
        {
            var frame = corpus.Frames.Bytes.AsSpan(corpus.Frames.Start(i), corpus.Frames.End(i) - corpus.Frames.Start(i));
            var header = (frame[1] & 0x7F) == 126 ? 4 : 2;
            var mask = frame.Slice(header, 4).ToArray();
            var payload = frame[(header + 4)..].ToArray().Select((b, j) => (byte)(b ^ mask[j % 4])).ToArray();
            Assert.Equal(corpus.Event(i).ToArray(), payload);
        }
        Assert.Equal(corpus.Frames.Bytes.Length, corpus.Frames.End(corpus.Count - 1));
    }
}
