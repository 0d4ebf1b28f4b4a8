using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Ingest.Gateway.WebSockets;
using static Ingest.Tests.Gateway.WebSockets.ClientFrames;

namespace Ingest.Tests.Gateway.WebSockets;

public sealed class ClientFrameReaderTests
{
    [Fact]
    public void Messages_cut_anywhere_come_out_whole_with_a_ping_between_the_frames_of_one()
    {
        var wide = "{\"long\":\"" + new string('x', 300) + "\"}";
        byte[] wire =
        [
            .. Frame(Text, "{\"a\":1}"u8.ToArray()),
            .. Frame(Binary, "{\"b\":"u8.ToArray(), final: false),
            .. Frame(Ping, "hi"u8.ToArray()),
            .. Frame(Continuation, [], final: false),
            .. Frame(Continuation, "2}"u8.ToArray()),
            .. Frame(Pong, "ignored"u8.ToArray()),
            .. Frame(Text, Encoding.UTF8.GetBytes(wide)),
            .. Frame(Binary, []),
        ];

        foreach (var chunk in new[] { 1, 2, 3, 5, 7, 13, 64, 333, wire.Length })
        {
            foreach (var segment in new[] { 1, 3, 4096 })
            {
                using var reader = new ClientFrameReader(1024);
                var messages = new Recorder();

                var stops = Feed(reader, wire, chunk, segment, messages);

                Assert.Equal([("{\"a\":1}", false, false), ("{\"b\":2}", true, false), (wide, false, false), ("", true, false)], messages.Received);
                var ping = Assert.Single(stops);
                Assert.Equal(ClientFrameStop.Ping, ping.Stop);
                Assert.Equal("hi"u8.ToArray(), ping.Payload);
            }
        }
    }

    [Fact]
    public void A_message_over_the_limit_is_dropped_whole_and_the_one_after_it_is_read()
    {
        byte[] wire =
        [
            .. Frame(Text, Encoding.UTF8.GetBytes(new string('a', 30)), final: false),
            .. Frame(Continuation, Encoding.UTF8.GetBytes(new string('b', 30))),
            .. Frame(Text, "{}"u8.ToArray()),
        ];
        using var reader = new ClientFrameReader(40);
        var messages = new Recorder();

        Feed(reader, wire, 7, 5, messages);

        Assert.Equal([("", false, true), ("{}", false, false)], messages.Received);
    }

    [Fact]
    public void A_handler_that_pauses_gets_the_rest_on_the_next_call()
    {
        var buffer = Segmented([.. Frame(Text, "1"u8.ToArray()), .. Frame(Text, "2"u8.ToArray())], 4096);
        using var reader = new ClientFrameReader(1024);
        var messages = new Recorder(pauseEvery: 1);

        var first = reader.Read(ref buffer, messages);
        Assert.Equal(ClientFrameStop.Paused, first.Stop);
        Assert.Equal([("1", false, false)], messages.Received);
        Assert.False(buffer.IsEmpty);

        var second = reader.Read(ref buffer, messages);
        Assert.Equal(ClientFrameStop.Paused, second.Stop);
        Assert.Equal([("1", false, false), ("2", false, false)], messages.Received);
        Assert.Equal(ClientFrameStop.NeedMore, reader.Read(ref buffer, messages).Stop);
    }

    [Fact]
    public void A_close_frame_gives_the_client_s_status_and_reason_and_nothing_after_it_is_read()
    {
        var buffer = Segmented([.. Frame(Text, "1"u8.ToArray()), .. CloseFrame(1001, "going away"), .. Frame(Text, "2"u8.ToArray())], 4096);
        using var reader = new ClientFrameReader(1024);
        var messages = new Recorder();

        var read = reader.Read(ref buffer, messages);

        Assert.Equal(ClientFrameStop.Closed, read.Stop);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, read.Status);
        Assert.Equal("going away", read.Reason);
        Assert.Equal([("1", false, false)], messages.Received);
    }

    public static TheoryData<string, byte[], WebSocketCloseStatus> BrokenFrames => new()
    {
        { "unmasked", Frame(Text, "{}"u8.ToArray(), masked: false), WebSocketCloseStatus.ProtocolError },
        { "reserved bit", Frame(Text, "{}"u8.ToArray(), firstByteExtra: 0x40), WebSocketCloseStatus.ProtocolError },
        { "unknown opcode", Frame(0x3, "{}"u8.ToArray()), WebSocketCloseStatus.ProtocolError },
        { "continuation first", Frame(Continuation, "{}"u8.ToArray()), WebSocketCloseStatus.ProtocolError },
        { "new message inside one", [.. Frame(Text, "{"u8.ToArray(), final: false), .. Frame(Text, "}"u8.ToArray())], WebSocketCloseStatus.ProtocolError },
        { "fragmented ping", Frame(Ping, "p"u8.ToArray(), final: false), WebSocketCloseStatus.ProtocolError },
        { "ping over 125 bytes", Frame(Ping, new byte[126]), WebSocketCloseStatus.ProtocolError },
        { "one-byte close", Frame(Close, [3]), WebSocketCloseStatus.ProtocolError },
        { "text not UTF-8", Frame(Text, [(byte)'"', 0xFF, (byte)'"']), WebSocketCloseStatus.InvalidPayloadData },
    };

    [Theory]
    [MemberData(nameof(BrokenFrames))]
    public void A_frame_that_breaks_the_protocol_fails_with_the_status_RFC_6455_gives(string what, byte[] frame, WebSocketCloseStatus status)
    {
        var buffer = Segmented([.. Frame(Text, "{\"ok\":1}"u8.ToArray()), .. frame], 4096);
        using var reader = new ClientFrameReader(1024);
        var messages = new Recorder();

        var read = reader.Read(ref buffer, messages);

        Assert.True(read.Stop == ClientFrameStop.Failed, $"{what}: {read}");
        Assert.Equal(status, read.Status);
        Assert.False(string.IsNullOrEmpty(read.Reason));
        Assert.Equal([("{\"ok\":1}", false, false)], messages.Received);
    }

    [Fact]
    public void Masking_matches_the_byte_by_byte_definition_at_every_length_and_offset()
    {
        var random = new Random(5);
        for (var length = 0; length < 100; length++)
        {
            for (var offset = 0; offset < 4; offset++)
            {
                var data = new byte[length];
                random.NextBytes(data);
                var mask = random.Next();
                var expected = data.Select((b, i) => (byte)(b ^ (byte)(mask >> ((offset + i) % 4 * 8)))).ToArray();

                WebSocketMask.Apply(data, mask, offset);

                Assert.Equal(expected, data);
            }
        }
    }

    /// <summary>
    /// Feeds <paramref name="wire"/> as a pipe would: <paramref name="chunk"/> bytes arrive at a
    /// time, behind whatever is still unread, in segments of <paramref name="segment"/> bytes.
    /// Returns the stops other than "need more".
    /// </summary>
    private static List<ClientFrameResult> Feed(ClientFrameReader reader, byte[] wire, int chunk, int segment, IClientMessages messages)
    {
        var stops = new List<ClientFrameResult>();
        byte[] unread = [];
        for (var at = 0; at < wire.Length; at += chunk)
        {
            var buffer = Segmented([.. unread, .. wire.AsSpan(at, Math.Min(chunk, wire.Length - at))], segment);
            while (true)
            {
                var read = reader.Read(ref buffer, messages);
                if (read.Stop == ClientFrameStop.NeedMore)
                    break;
                stops.Add(read);
                if (read.Stop is ClientFrameStop.Closed or ClientFrameStop.Failed)
                    return stops;
            }
            unread = buffer.ToArray();
        }
        Assert.Empty(unread);
        return stops;
    }

    private sealed class Recorder(int pauseEvery = int.MaxValue) : IClientMessages
    {
        public List<(string Text, bool Binary, bool Oversize)> Received { get; } = [];

        public bool OnMessage(ReadOnlySpan<byte> payload, bool binary, bool oversize)
        {
            Received.Add((Encoding.UTF8.GetString(payload), binary, oversize));
            return Received.Count % pauseEvery != 0;
        }
    }
}
