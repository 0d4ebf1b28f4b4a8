using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Ingest.Tests.Infrastructure;

/// <summary>
/// A WebSocket client that writes whatever bytes it is given, well-formed frames or not, and reads
/// the server's frames one by one: for what a library client will not send.
/// </summary>
internal sealed class RawWebSocket : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private byte[] _unread;

    private RawWebSocket(TcpClient client, byte[] unread)
    {
        _client = client;
        _stream = client.GetStream();
        _unread = unread;
    }

    public static async Task<RawWebSocket> ConnectAsync(Uri address)
    {
        var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        var stream = client.GetStream();
        var request = $"GET {address.PathAndQuery} HTTP/1.1\r\nHost: {address.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var received = new List<byte>();
        var buffer = new byte[4096];
        int end;
        while ((end = IndexOf(received, "\r\n\r\n"u8)) < 0)
        {
            var read = await stream.ReadAsync(buffer);
            Assert.True(read > 0, "the server closed the connection during the handshake");
            received.AddRange(buffer.AsSpan(0, read));
        }
        var head = Encoding.ASCII.GetString([.. received.Take(end)]);
        Assert.StartsWith("HTTP/1.1 101", head);
        // The key and accept value from RFC 6455's own example.
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", head, StringComparison.OrdinalIgnoreCase);
        return new RawWebSocket(client, [.. received.Skip(end + 4)]);
    }

    public Task SendAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    /// <summary>The server's next frame, or null once it has closed the connection.</summary>
    public async Task<(int Opcode, byte[] Payload)?> ReadFrameAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        if (!await FillAsync(2, cancel.Token))
            return null;
        Assert.Equal(0x80, _unread[0] & 0xF0);
        Assert.Equal(0, _unread[1] & 0x80);
        var length = _unread[1] & 0x7F;
        var header = 2;
        if (length == 126)
        {
            await FillAsync(4, cancel.Token);
            length = BinaryPrimitives.ReadUInt16BigEndian(_unread.AsSpan(2));
            header = 4;
        }
        Assert.True(length < 127, "the server sent a frame over 64 KiB");
        await FillAsync(header + length, cancel.Token);
        var frame = (_unread[0] & 0x0F, _unread[header..(header + length)]);
        _unread = _unread[(header + length)..];
        return frame;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
    }

    private async Task<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (_unread.Length < count)
        {
            var read = await _stream.ReadAsync(buffer, cancellationToken);
            if (read == 0)
                return false;
            _unread = [.. _unread, .. buffer.AsSpan(0, read)];
        }
        return true;
    }

    private static int IndexOf(List<byte> bytes, ReadOnlySpan<byte> value) => bytes.ToArray().AsSpan().IndexOf(value);
}
