using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Ingest.Gateway.WebSockets;

/// <summary>
/// The server's end of a WebSocket (RFC 6455), read straight from the connection's pipe: an
/// HTTP/1.1 upgrade reads Kestrel's transport input, where the upgraded stream would only copy
/// from, and every message already received is handled in one pass (<see cref="ClientFrameReader"/>).
/// It answers pings, sends a pong as keep-alive, and takes one send at a time.
/// </summary>
/// <remarks>
/// ASP.NET Core's <c>ManagedWebSocket</c> costs an asynchronous call, a lock and a copy through a
/// stream per message; with 100 streams at 250,000 events/s this cut the thread pool's CPU by a
/// fifth (BENCHMARKS.md, eighth session).
/// </remarks>
internal sealed class ServerWebSocket : IWebSocketOutput, IDisposable
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private const int MaxFrameHeader = 10;

    private readonly HttpContext _context;
    private readonly CancellationToken _aborted;
    private readonly PipeReader _input;
    private readonly Stream _output;
    private readonly ClientFrameReader _frames;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly ITimer _keepAlive;
    private readonly bool _ownsInput;
    private ReadResult _result;
    private ReadOnlySequence<byte> _unread;
    private bool _holding;
    private int _state = (int)WebSocketState.Open;

    private ServerWebSocket(HttpContext context, PipeReader input, bool ownsInput, Stream output, int maxMessageBytes, TimeSpan keepAlive, TimeProvider time)
    {
        _context = context;
        // Kept for the keep-alive timer, which may fire after the request's features are gone.
        _aborted = context.RequestAborted;
        _input = input;
        _ownsInput = ownsInput;
        _output = output;
        _frames = new ClientFrameReader(maxMessageBytes);
        _keepAlive = time.CreateTimer(static state => ((ServerWebSocket)state!).KeepAlive(), this, keepAlive, keepAlive);
    }

    public WebSocketState State => (WebSocketState)Volatile.Read(ref _state);

    public bool CanSend => State is WebSocketState.Open or WebSocketState.CloseReceived;

    /// <summary>Completes the handshake of a request that <c>context.WebSockets.IsWebSocketRequest</c> accepted.</summary>
    /// <param name="maxMessageBytes">Messages over this are dropped, and the handler told (<see cref="IClientMessages"/>).</param>
    /// <param name="keepAlive">How often an unsolicited pong goes out, so that idle connections stay open through proxies.</param>
    public static async Task<ServerWebSocket> AcceptAsync(HttpContext context, int maxMessageBytes, TimeSpan keepAlive, TimeProvider time)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            context.Response.Headers.Upgrade = "websocket";
            context.Response.Headers.SecWebSocketAccept = AcceptKey(context.Request.Headers.SecWebSocketKey.ToString());
            var stream = await upgrade.UpgradeAsync();
            // The upgraded stream reads this same pipe (Kestrel's Http1UpgradeMessageBody), through a copy.
            var transport = context.Features.Get<IConnectionTransportFeature>()?.Transport.Input;
            return transport is null
                ? OverStream(context, stream, maxMessageBytes, keepAlive, time)
                : new ServerWebSocket(context, transport, false, stream, maxMessageBytes, keepAlive, time);
        }
        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
        {
            // A WebSocket over HTTP/2 (RFC 8441): the stream is this request's, not the connection's.
            return OverStream(context, await connect.AcceptAsync(), maxMessageBytes, keepAlive, time);
        }
        throw new InvalidOperationException("The request is not a WebSocket request.");
    }

    /// <summary>Reads <paramref name="stream"/> through a pipe of its own, which this socket completes.</summary>
    private static ServerWebSocket OverStream(HttpContext context, Stream stream, int maxMessageBytes, TimeSpan keepAlive, TimeProvider time) =>
        new(context, PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true)), true, stream, maxMessageBytes, keepAlive, time);

    /// <summary>
    /// Hands <paramref name="messages"/> every message received, reading more while more is there;
    /// answers pings on the way. Returns <see cref="ClientFrameStop.Quiet"/> once everything received
    /// is handled and the next read would wait, or when the handler pauses, the client closes, breaks
    /// the protocol, or the connection ends.
    /// </summary>
    public async ValueTask<ClientFrameResult> ReceiveAsync(IClientMessages messages, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!_holding)
            {
                _result = await _input.ReadAsync(cancellationToken);
                _unread = _result.Buffer;
                _holding = true;
            }
            var buffer = _unread;
            var read = _frames.Read(ref buffer, messages);
            _unread = buffer;
            switch (read.Stop)
            {
                case ClientFrameStop.Paused:
                    return read;
                case ClientFrameStop.Ping:
                    if (CanSend)
                        await SendFrameAsync(ClientFrameReader.Opcode.Pong, read.Payload, cancellationToken);
                    continue;
                case ClientFrameStop.NeedMore:
                    Release(buffer.End);
                    if (_result.IsCompleted || _result.IsCanceled)
                        return ClientFrameResult.Ended;
                    if (_input.TryRead(out _result))
                    {
                        _unread = _result.Buffer;
                        _holding = true;
                        continue;
                    }
                    return ClientFrameResult.Quiet;
                case ClientFrameStop.Closed:
                    Release(buffer.Start);
                    Transition(WebSocketState.CloseReceived);
                    return read;
                default:
                    Release(buffer.Start);
                    return read;
            }
        }
    }

    /// <summary>After this end's close frame: reads, and drops, whatever comes until the client's close frame or the end.</summary>
    public async Task WaitForCloseAsync(CancellationToken cancellationToken)
    {
        while (State == WebSocketState.CloseSent)
        {
            var read = await ReceiveAsync(Discard.Instance, cancellationToken);
            if (read.Stop is ClientFrameStop.Failed or ClientFrameStop.Ended)
                return;
        }
    }

    public ValueTask SendTextAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) =>
        SendFrameAsync(ClientFrameReader.Opcode.Text, message, cancellationToken);

    /// <summary>Sends the close frame; after it, nothing more is sent.</summary>
    public async ValueTask CloseOutputAsync(WebSocketCloseStatus status, string? reason, CancellationToken cancellationToken)
    {
        var body = new byte[2 + (reason is null ? 0 : Encoding.UTF8.GetByteCount(reason))];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)status);
        if (reason is not null)
            Encoding.UTF8.GetBytes(reason, body.AsSpan(2));
        await SendFrameAsync(ClientFrameReader.Opcode.Close, body, cancellationToken);
    }

    /// <summary>Drops the connection at once, without a close handshake.</summary>
    public void Abort()
    {
        Volatile.Write(ref _state, (int)WebSocketState.Aborted);
        _context.Abort();
    }

    public void Dispose()
    {
        _keepAlive.Dispose();
        if (_holding)
            Release(_unread.Start);
        // Kestrel's transport pipe is the connection's, and Kestrel completes it.
        if (_ownsInput)
            _input.Complete();
        _frames.Dispose();
    }

    /// <summary>RFC 6455 fixes SHA-1 for the accept key; it proves the server read the handshake, nothing more.</summary>
    internal static string AcceptKey(string key)
    {
#pragma warning disable CA5350
        return Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
#pragma warning restore CA5350
    }

    private void Release(SequencePosition examined)
    {
        _input.AdvanceTo(_unread.Start, examined);
        _holding = false;
    }

    /// <summary>Open becomes <paramref name="half"/>; the other half of the handshake makes it Closed.</summary>
    private void Transition(WebSocketState half)
    {
        while (true)
        {
            var state = Volatile.Read(ref _state);
            var next = (WebSocketState)state switch
            {
                WebSocketState.Open => half,
                WebSocketState.CloseReceived or WebSocketState.CloseSent when (WebSocketState)state != half => WebSocketState.Closed,
                _ => (WebSocketState)state,
            };
            if (Interlocked.CompareExchange(ref _state, (int)next, state) == state)
                return;
        }
    }

    private void KeepAlive()
    {
        if (State == WebSocketState.Open)
            _ = SendKeepAliveAsync();
    }

    private async Task SendKeepAliveAsync()
    {
        try
        {
            await SendFrameAsync(ClientFrameReader.Opcode.Pong, ReadOnlyMemory<byte>.Empty, _aborted);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection is going; its reader finds out.
        }
    }

    /// <summary>One unmasked, final frame; sends take turns.</summary>
    private async ValueTask SendFrameAsync(ClientFrameReader.Opcode opcode, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var frame = ArrayPool<byte>.Shared.Rent(MaxFrameHeader + payload.Length);
        try
        {
            var length = WriteFrame(frame, opcode, payload.Span);
            await _sending.WaitAsync(cancellationToken);
            try
            {
                if (State is WebSocketState.CloseSent or WebSocketState.Closed or WebSocketState.Aborted)
                    throw new InvalidOperationException($"The WebSocket is {State}: nothing more may be sent.");
                await _output.WriteAsync(frame.AsMemory(0, length), cancellationToken);
                await _output.FlushAsync(cancellationToken);
                if (opcode == ClientFrameReader.Opcode.Close)
                    Transition(WebSocketState.CloseSent);
            }
            finally
            {
                _sending.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private sealed class Discard : IClientMessages
    {
        public static readonly Discard Instance = new();

        public bool OnMessage(ReadOnlySpan<byte> payload, bool binary, bool oversize) => true;
    }

    private static int WriteFrame(Span<byte> frame, ClientFrameReader.Opcode opcode, ReadOnlySpan<byte> payload)
    {
        frame[0] = (byte)(0x80 | (int)opcode);
        int header;
        if (payload.Length < 126)
        {
            frame[1] = (byte)payload.Length;
            header = 2;
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            frame[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame[2..], (ushort)payload.Length);
            header = 4;
        }
        else
        {
            frame[1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(frame[2..], (ulong)payload.Length);
            header = 10;
        }
        payload.CopyTo(frame[header..]);
        return header + payload.Length;
    }
}
