using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Ingest.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using static Ingest.Tests.Gateway.WebSockets.ClientFrames;

namespace Ingest.Tests.Gateway.WebSockets;

/// <summary>The WebSocket protocol as clients meet it on <c>/</c>: a real node, real sockets.</summary>
public sealed class ServerWebSocketTests
{
    [Fact]
    public async Task A_client_that_breaks_the_protocol_gets_its_count_and_a_1002_close_and_its_earlier_events_are_stored()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await RawWebSocket.ConnectAsync(node.WebSocketAddress);

        await client.SendAsync([
            .. Frame(Text, "{\"n\":1}"u8.ToArray()),
            .. Frame(Binary, "{\"n\":2}"u8.ToArray()),
            .. Frame(Text, "{\"n\":3}"u8.ToArray(), masked: false),
        ]);
        var frames = await ReadUntilCloseAsync(client);

        var close = frames[^1];
        Assert.Equal(Close, close.Opcode);
        Assert.Equal((ushort)WebSocketCloseStatus.ProtocolError, BinaryPrimitives.ReadUInt16BigEndian(close.Payload));
        Assert.Contains("masked", Encoding.UTF8.GetString(close.Payload.AsSpan(2)));
        Assert.Contains("stored 2", Encoding.UTF8.GetString(close.Payload.AsSpan(2)));
        Assert.Equal("2", Encoding.UTF8.GetString(frames.Last(f => f.Opcode == Text).Payload));
        Assert.Equal(["{\"n\":1}", "{\"n\":2}"], await node.Http.PayloadsAsync());
    }

    [Fact]
    public async Task A_ping_is_answered_with_its_payload_between_the_frames_of_a_message()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await RawWebSocket.ConnectAsync(node.WebSocketAddress);

        await client.SendAsync([
            .. Frame(Text, "{\"half\":"u8.ToArray(), final: false),
            .. Frame(Ping, "are you there"u8.ToArray()),
        ]);
        var pong = await client.ReadFrameAsync(TimeSpan.FromSeconds(10));
        await client.SendAsync([.. Frame(Continuation, "1}"u8.ToArray()), .. Frame(Binary, [])]);
        var frames = await ReadUntilCloseAsync(client);

        Assert.Equal((Pong, "are you there"), (pong!.Value.Opcode, Encoding.UTF8.GetString(pong.Value.Payload)));
        Assert.Equal((ushort)WebSocketCloseStatus.NormalClosure, BinaryPrimitives.ReadUInt16BigEndian(frames[^1].Payload));
        Assert.Equal(["{\"half\":1}"], await node.Http.PayloadsAsync());
    }

    [Fact]
    public async Task An_idle_stream_is_sent_keep_alive_pongs_and_a_client_that_pings_stays_connected()
    {
        await using var node = await TestNode.StartAsync(new Dictionary<string, string?> { ["Gateway:KeepAliveInterval"] = "00:00:00.100" });
        await using var raw = await RawWebSocket.ConnectAsync(node.WebSocketAddress);
        using var pinging = new ClientWebSocket();
        // The client pings every 100 ms and gives up on the connection if a pong is 1 s late.
        pinging.Options.KeepAliveInterval = TimeSpan.FromMilliseconds(100);
        pinging.Options.KeepAliveTimeout = TimeSpan.FromSeconds(1);
        await pinging.ConnectAsync(node.WebSocketAddress, CancellationToken.None);
        var buffer = new byte[64];
        var receiving = pinging.ReceiveAsync(buffer, CancellationToken.None);

        var keepAlive = await raw.ReadFrameAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(2000);

        Assert.Equal(Pong, keepAlive!.Value.Opcode);
        Assert.False(receiving.IsCompleted, $"the pinging client's connection ended: {pinging.State} {receiving.Exception?.GetBaseException().Message}");
        Assert.Equal(WebSocketState.Open, pinging.State);
        await pinging.SendAsync("{\"alive\":true}"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var count = await receiving.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("1", Encoding.UTF8.GetString(buffer, 0, count.Count));
    }

    [Fact]
    public async Task A_WebSocket_over_HTTP_2_carries_events_and_counts_as_one_over_HTTP_1_1_does()
    {
        await using var node = await TestNode.StartAsync(services: services => services.Configure<KestrelServerOptions>(
            kestrel => kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = HttpProtocols.Http2)));
        node.Http.DefaultRequestVersion = HttpVersion.Version20;
        node.Http.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        // Exactly HTTP/2 (cleartext, prior knowledge): the connection fails rather than fall back to HTTP/1.1.
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        await socket.ConnectAsync(node.WebSocketAddress, invoker, CancellationToken.None);

        var counts = await SendAndHangUpAsync(socket, "h2");

        Assert.Equal("3", counts[^1]);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.Equal(["{\"h2\":1}", "{\"h2\":2}", "{\"h2\":3}"], await node.Http.PayloadsAsync());
    }

    [Fact]
    public async Task A_WebSocket_over_TLS_is_read_decrypted()
    {
        using var certificate = SelfSignedCertificate();
        await using var node = await TestNode.StartAsync(services: services => services.Configure<KestrelServerOptions>(
            kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate))));
        // Trust exactly the node's certificate.
        bool Trusted(object sender, X509Certificate? presented, X509Chain? chain, SslPolicyErrors errors) =>
            presented?.GetCertHashString() == certificate.GetCertHashString();
        using var trusting = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = Trusted } })
        {
            BaseAddress = node.Address,
        };
        using var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = Trusted;
        await socket.ConnectAsync(new Uri($"wss://{node.Address.Authority}/"), CancellationToken.None);

        var counts = await SendAndHangUpAsync(socket, "tls");

        Assert.Equal(Uri.UriSchemeHttps, node.Address.Scheme);
        Assert.Equal("3", counts[^1]);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.Equal(["{\"tls\":1}", "{\"tls\":2}", "{\"tls\":3}"], await trusting.PayloadsAsync());
    }

    /// <summary>Three events <c>{"name":i}</c>, the hang-up, and every count until the close.</summary>
    private static async Task<List<string>> SendAndHangUpAsync(ClientWebSocket socket, string name)
    {
        for (var i = 1; i <= 3; i++)
            await socket.SendAsync(Encoding.UTF8.GetBytes($"{{\"{name}\":{i}}}"), WebSocketMessageType.Text, true, CancellationToken.None);
        await socket.SendAsync(Array.Empty<byte>(), WebSocketMessageType.Binary, true, CancellationToken.None);
        var counts = new List<string>();
        var buffer = new byte[64];
        WebSocketReceiveResult received;
        while ((received = await socket.ReceiveAsync(buffer, CancellationToken.None)).MessageType != WebSocketMessageType.Close)
            counts.Add(Encoding.UTF8.GetString(buffer, 0, received.Count));
        return counts;
    }

    private static X509Certificate2 SelfSignedCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Kestrel's TLS on Linux wants a key it can export: a round trip through PKCS #12 gives one.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), null);
    }

    private static async Task<List<(int Opcode, byte[] Payload)>> ReadUntilCloseAsync(RawWebSocket client)
    {
        var frames = new List<(int, byte[])>();
        while (await client.ReadFrameAsync(TimeSpan.FromSeconds(10)) is { } frame)
        {
            frames.Add(frame);
            if (frame.Opcode == Close)
                break;
        }
        Assert.NotEmpty(frames);
        return frames;
    }
}
