using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace Ingest.Cli.Bench;

/// <summary>
/// One WebSocket stream of the bench, in anacrolix/telemetry's protocol: one text message per event,
/// the server's counts read as they come, an empty binary message to hang up. It writes pre-built
/// frames (<see cref="WebSocketFrames"/>) straight to the socket, every frame due in one write, so
/// the load generator is not what limits the node. When a count arrives, every event it newly
/// covers gets its latency: now minus when its frame was written.
/// </summary>
internal sealed class BenchSocket : IDisposable
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private const int MaxWrite = 64 * 1024;
    private const int NormalClosure = 1000;

    private readonly Stream _stream;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly long[] _stamps;
    private readonly long[] _sentAt;
    private long _acknowledged;
    private Task _receiving = Task.CompletedTask;

    private BenchSocket(Stream stream, int events)
    {
        _stream = stream;
        _stamps = new long[events];
        _sentAt = new long[events];
    }

    /// <summary>The last count the server sent.</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>The status of the server's close frame, once it came.</summary>
    public int? CloseStatus { get; private set; }

    public string? CloseDescription { get; private set; }

    public bool ClosedNormally => CloseStatus == NormalClosure;

    /// <summary>Ends when the server has closed the connection, or it failed.</summary>
    public Task Completion => _receiving;

    /// <summary>Every acknowledged event's latency in <see cref="Stopwatch"/> ticks, once <see cref="Completion"/> is done.</summary>
    public ReadOnlySpan<long> Latencies => _stamps.AsSpan(0, (int)Math.Min(Acknowledged, _stamps.Length));

    /// <summary>When each acknowledged event's frame was written (<see cref="Stopwatch"/> timestamps), beside <see cref="Latencies"/>.</summary>
    public ReadOnlySpan<long> SentAt => _sentAt.AsSpan(0, (int)Math.Min(Acknowledged, _sentAt.Length));

    /// <summary>Opens the WebSocket (the HTTP/1.1 upgrade) and starts reading the server's counts.</summary>
    /// <param name="events">Events this stream will send, so their send times can be kept.</param>
    /// <exception cref="WebSocketException">The server refused the upgrade.</exception>
    public static async Task<BenchSocket> ConnectAsync(Uri address, int events, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new DnsEndPoint(address.Host, address.Port), cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            if (address.Scheme == Uri.UriSchemeWss)
            {
                var tls = new SslStream(stream);
                stream = tls;
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = address.Host }, cancellationToken);
            }
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var request = $"GET {address.PathAndQuery} HTTP/1.1\r\nHost: {address.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: ingest-bench\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
            var (buffer, start, end) = await ReadUpgradeAsync(stream, key, cancellationToken);
            var bench = new BenchSocket(stream, events);
            bench._receiving = bench.ReceiveAsync(buffer, start, end);
            return bench;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends events <paramref name="first"/> onwards, as many as this stream was opened for, paced, then hangs up.</summary>
    public async Task SendAsync(WebSocketFrames frames, int first, Pacer pacer, CancellationToken cancellationToken)
    {
        var count = _stamps.Length;
        var i = 0;
        while (i < count)
        {
            var due = (int)pacer.Due(count);
            if (due <= i)
            {
                await pacer.UntilDueAsync(i, cancellationToken);
                continue;
            }
            // Every frame due, up to a write's worth, goes in one write.
            var start = frames.Start(first + i);
            var next = i + 1;
            while (next < due && frames.End(first + next) - start <= MaxWrite)
                next++;
            var now = Stopwatch.GetTimestamp();
            for (var e = i; e < next; e++)
            {
                _sentAt[e] = now;
                Volatile.Write(ref _stamps[e], now);
            }
            await WriteAsync(frames.Bytes.AsMemory(start, frames.End(first + next - 1) - start), cancellationToken);
            i = next;
        }
        await HangUpAsync(cancellationToken);
    }

    /// <summary>anacrolix/telemetry's hang-up, an empty binary message: the server flushes, sends the final count and closes.</summary>
    public Task HangUpAsync(CancellationToken cancellationToken) =>
        WriteFrameAsync(WebSocketFrames.Opcode.Binary, [], cancellationToken);

    public void Dispose() => _stream.Dispose();

    private async Task WriteFrameAsync(WebSocketFrames.Opcode opcode, byte[] payload, CancellationToken cancellationToken)
    {
        var frame = new byte[WebSocketFrames.FrameLength(payload.Length)];
        WebSocketFrames.Write(frame, opcode, payload, Random.Shared.Next());
        await WriteAsync(frame, cancellationToken);
    }

    // The receive loop answers pings and the close frame, so writes take turns.
    private async Task WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            await _stream.WriteAsync(bytes, cancellationToken);
        }
        finally
        {
            _writing.Release();
        }
    }

    private static async Task<(byte[] Buffer, int Start, int End)> ReadUpgradeAsync(Stream stream, string key, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var end = 0;
        int headerEnd;
        while ((headerEnd = buffer.AsSpan(0, end).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (end == buffer.Length)
                throw new WebSocketException("The server's upgrade response has over 4 KiB of headers.");
            var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken);
            if (read == 0)
                throw new WebSocketException("The server closed the connection instead of upgrading it.");
            end += read;
        }
        var lines = Encoding.ASCII.GetString(buffer, 0, headerEnd).Split("\r\n");
        if (!lines[0].StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            throw new WebSocketException($"The server refused the WebSocket: {lines[0]}");
        // RFC 6455 fixes SHA-1 for the accept key; it proves the server read the handshake, nothing more.
#pragma warning disable CA5350
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
#pragma warning restore CA5350
        if (!lines.Any(l => l.StartsWith("Sec-WebSocket-Accept:", StringComparison.OrdinalIgnoreCase) && l[21..].Trim() == accept))
            throw new WebSocketException("The server's Sec-WebSocket-Accept does not match the key sent.");
        return (buffer, headerEnd + 4, end);
    }

    /// <summary>Reads the server's frames until it closes the connection; <paramref name="buffer"/> may hold the first already.</summary>
    private async Task ReceiveAsync(byte[] buffer, int start, int end)
    {
        // Counts are tiny: a fresh buffer of this size serves many idle sockets cheaply.
        var window = new byte[Math.Max(512, end - start)];
        buffer.AsSpan(start, end - start).CopyTo(window);
        end -= start;
        start = 0;
        var acknowledged = 0L;
        try
        {
            while (true)
            {
                while (TryReadFrame(window.AsSpan(start, end - start), out var opcode, out var payloadStart, out var length))
                {
                    var payload = window.AsSpan(start + payloadStart, length);
                    switch (opcode)
                    {
                        case WebSocketFrames.Opcode.Text:
                            acknowledged = Acknowledge(payload, acknowledged);
                            break;
                        case WebSocketFrames.Opcode.Ping:
                            await WriteFrameAsync(WebSocketFrames.Opcode.Pong, payload.ToArray(), CancellationToken.None);
                            break;
                        case WebSocketFrames.Opcode.Close:
                            CloseStatus = length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : null;
                            CloseDescription = length > 2 ? Encoding.UTF8.GetString(payload[2..]) : null;
                            await WriteFrameAsync(WebSocketFrames.Opcode.Close, payload[..Math.Min(2, length)].ToArray(), CancellationToken.None);
                            break;
                    }
                    start += payloadStart + length;
                }
                if (start > 0)
                {
                    window.AsSpan(start, end - start).CopyTo(window);
                    end -= start;
                    start = 0;
                }
                if (end == window.Length)
                    Array.Resize(ref window, window.Length * 2);
                var read = await _stream.ReadAsync(window.AsMemory(end));
                if (read == 0)
                    return;
                end += read;
            }
        }
        catch (IOException) when (CloseStatus is not null)
        {
            // Reset after the close handshake: nothing was lost.
        }
    }

    private long Acknowledge(ReadOnlySpan<byte> payload, long acknowledged)
    {
        if (!long.TryParse(payload, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            throw new InvalidDataException($"The server sent '{Encoding.UTF8.GetString(payload)}' where a count belongs.");
        var now = Stopwatch.GetTimestamp();
        // The events this count newly covers were written before it came, so their stamps are there.
        for (var i = acknowledged; i < Math.Min(count, _stamps.Length); i++)
            _stamps[i] = now - Volatile.Read(ref _stamps[i]);
        acknowledged = Math.Max(acknowledged, count);
        Interlocked.Exchange(ref _acknowledged, acknowledged);
        return acknowledged;
    }

    /// <summary>A whole server frame (unmasked, unfragmented, as Kestrel sends counts and close frames) at the start of <paramref name="input"/>.</summary>
    private static bool TryReadFrame(ReadOnlySpan<byte> input, out WebSocketFrames.Opcode opcode, out int payloadStart, out int length)
    {
        opcode = default;
        payloadStart = length = 0;
        if (input.Length < 2)
            return false;
        if ((input[0] & 0x80) == 0 || (input[1] & 0x80) != 0)
            throw new InvalidDataException("The server sent a fragmented or masked frame, which this client does not read.");
        opcode = (WebSocketFrames.Opcode)(input[0] & 0x0F);
        long size = input[1] & 0x7F;
        payloadStart = 2;
        if (size == 126)
        {
            if (input.Length < 4)
                return false;
            size = BinaryPrimitives.ReadUInt16BigEndian(input[2..]);
            payloadStart = 4;
        }
        else if (size == 127)
        {
            if (input.Length < 10)
                return false;
            size = (long)BinaryPrimitives.ReadUInt64BigEndian(input[2..]);
            payloadStart = 10;
        }
        if (size > 1024 * 1024)
            throw new InvalidDataException($"The server sent a {size}-byte frame; counts are a few bytes.");
        length = (int)size;
        return input.Length >= payloadStart + length;
    }
}
