using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using System.Text.Unicode;

namespace Ingest.Gateway.WebSockets;

/// <summary>
/// Reads a client's WebSocket frames (RFC 6455) straight out of the connection's buffered bytes
/// and hands each whole message to an <see cref="IClientMessages"/>, unmasked. Every message that a
/// read brought is handled before the next read, in one pass, without a call per message into a
/// general-purpose WebSocket: at 100 streams that is most of the gateway's cost per event.
/// </summary>
/// <remarks>
/// A message over <c>maxMessageBytes</c> is read to its end and dropped; the handler hears of it,
/// so that it can reject that one event and go on. Text messages must be UTF-8, as RFC 6455 says;
/// binary ones are the handler's to judge.
/// </remarks>
internal sealed class ClientFrameReader(int maxMessageBytes) : IDisposable
{
    private const int MaxHeader = 14;
    private const int MaxControlPayload = 125;
    private const int FirstMessageBytes = 4 * 1024;

    private byte[] _message = [];
    private int _length;
    private bool _inMessage;
    private bool _binary;
    private bool _oversize;

    // The data frame being read, when its payload spans reads.
    private bool _inFrame;
    private bool _final;
    private long _remaining;
    private int _mask;
    private int _maskOffset;

    /// <summary>
    /// Consumes whole frames from the start of <paramref name="buffer"/> (left pointing at what is
    /// still unread) until it needs more bytes, the handler asks to pause, or a control frame or a
    /// protocol error needs the caller.
    /// </summary>
    public ClientFrameResult Read(ref ReadOnlySequence<byte> buffer, IClientMessages messages)
    {
        Span<byte> header = stackalloc byte[MaxHeader];
        while (true)
        {
            if (_inFrame)
            {
                if (_remaining > 0)
                {
                    if (buffer.IsEmpty)
                        return ClientFrameResult.NeedMore;
                    ReadPayload(ref buffer);
                    if (_remaining > 0)
                        return ClientFrameResult.NeedMore;
                }
                _inFrame = false;
                if (!_final)
                    continue;
                if (EndMessage(messages) is { } ended)
                    return ended;
                continue;
            }

            if (buffer.Length < 2)
                return ClientFrameResult.NeedMore;
            scoped ReadOnlySpan<byte> first = buffer.FirstSpan;
            if (first.Length < MaxHeader && first.Length < buffer.Length)
            {
                var available = (int)Math.Min(MaxHeader, buffer.Length);
                buffer.Slice(0, available).CopyTo(header);
                first = header[..available];
            }
            var (headerLength, failure) = ParseHeader(first, out var opcode, out var final, out var payload, out var mask);
            if (failure is not null)
                return failure.Value;
            if (headerLength == 0)
                return ClientFrameResult.NeedMore;

            if (opcode >= Opcode.Close)
            {
                // A control frame is read whole; it may come between the frames of a message.
                if (buffer.Length < headerLength + payload)
                    return ClientFrameResult.NeedMore;
                var body = new byte[payload];
                buffer.Slice(headerLength, payload).CopyTo(body);
                WebSocketMask.Apply(body, mask, 0);
                buffer = buffer.Slice(headerLength + payload);
                switch (opcode)
                {
                    case Opcode.Ping:
                        return ClientFrameResult.Ping(body);
                    case Opcode.Close:
                        return Close(body);
                    default:
                        continue;
                }
            }

            var continuation = opcode == Opcode.Continuation;
            if (continuation != _inMessage)
            {
                return ClientFrameResult.Fail(WebSocketCloseStatus.ProtocolError, _inMessage
                    ? "a new message began before the last one's final frame"
                    : "a continuation frame came with no message to continue");
            }
            if (!_inMessage)
            {
                _inMessage = true;
                _binary = opcode == Opcode.Binary;
                _length = 0;
                _oversize = false;
            }
            buffer = buffer.Slice(headerLength);
            _inFrame = true;
            _final = final;
            _remaining = payload;
            _mask = mask;
            _maskOffset = 0;
            if (payload > 0 && !_oversize && _length + payload > maxMessageBytes)
                _oversize = true;
            else if (!_oversize && _length + payload > _message.Length)
                Grow(_length + (int)payload);
        }
    }

    public void Dispose()
    {
        if (_message.Length > 0)
            ArrayPool<byte>.Shared.Return(_message);
        _message = [];
    }

    private void ReadPayload(ref ReadOnlySequence<byte> buffer)
    {
        var take = (int)Math.Min(_remaining, buffer.Length);
        if (!_oversize)
        {
            var destination = _message.AsSpan(_length, take);
            buffer.Slice(0, take).CopyTo(destination);
            WebSocketMask.Apply(destination, _mask, _maskOffset);
            _length += take;
        }
        _maskOffset = (_maskOffset + take) & 3;
        _remaining -= take;
        buffer = buffer.Slice(take);
    }

    private ClientFrameResult? EndMessage(IClientMessages messages)
    {
        _inMessage = false;
        var payload = _message.AsSpan(0, _oversize ? 0 : _length);
        if (!_binary && !_oversize && !Utf8.IsValid(payload))
            return ClientFrameResult.Fail(WebSocketCloseStatus.InvalidPayloadData, "a text message is not valid UTF-8");
        var carryOn = messages.OnMessage(payload, _binary, _oversize);
        _length = 0;
        return carryOn ? null : ClientFrameResult.Paused;
    }

    private void Grow(int needed)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(FirstMessageBytes, _message.Length * 2)));
        _message.AsSpan(0, _length).CopyTo(bigger);
        if (_message.Length > 0)
            ArrayPool<byte>.Shared.Return(_message);
        _message = bigger;
    }

    /// <returns>The header's length, or 0 if <paramref name="input"/> does not hold all of it yet.</returns>
    private static (int Length, ClientFrameResult? Failure) ParseHeader(
        ReadOnlySpan<byte> input, out Opcode opcode, out bool final, out long payload, out int mask)
    {
        opcode = (Opcode)(input[0] & 0x0F);
        final = (input[0] & 0x80) != 0;
        payload = 0;
        mask = 0;
        if ((input[0] & 0x70) != 0)
            return (0, ClientFrameResult.Fail(WebSocketCloseStatus.ProtocolError, "a frame has reserved bits set, and no extension was agreed"));
        if (opcode is not (Opcode.Continuation or Opcode.Text or Opcode.Binary or Opcode.Close or Opcode.Ping or Opcode.Pong))
            return (0, ClientFrameResult.Fail(WebSocketCloseStatus.ProtocolError, $"a frame has the unknown opcode {(int)opcode}"));
        if ((input[1] & 0x80) == 0)
            return (0, ClientFrameResult.Fail(WebSocketCloseStatus.ProtocolError, "a client's frame must be masked"));
        payload = input[1] & 0x7F;
        var length = 2;
        if (payload == 126)
        {
            if (input.Length < 4)
                return (0, null);
            payload = BinaryPrimitives.ReadUInt16BigEndian(input[2..]);
            length = 4;
        }
        else if (payload == 127)
        {
            if (input.Length < 10)
                return (0, null);
            var big = BinaryPrimitives.ReadUInt64BigEndian(input[2..]);
            if (big > long.MaxValue)
                return (0, ClientFrameResult.Fail(WebSocketCloseStatus.ProtocolError, "a frame's length has its most significant bit set"));
            payload = (long)big;
            length = 10;
        }
        if (opcode >= Opcode.Close && (!final || payload > MaxControlPayload))
            return (0, ClientFrameResult.Fail(WebSocketCloseStatus.ProtocolError, "a control frame is fragmented or over 125 bytes"));
        if (input.Length < length + 4)
            return (0, null);
        mask = BinaryPrimitives.ReadInt32LittleEndian(input[length..]);
        return (length + 4, null);
    }

    private static ClientFrameResult Close(byte[] body)
    {
        if (body.Length == 0)
            return ClientFrameResult.Closed(null, null);
        if (body.Length == 1)
            return ClientFrameResult.Fail(WebSocketCloseStatus.ProtocolError, "a close frame holds one byte");
        var reason = body.AsSpan(2);
        if (!Utf8.IsValid(reason))
            return ClientFrameResult.Fail(WebSocketCloseStatus.InvalidPayloadData, "a close frame's reason is not valid UTF-8");
        return ClientFrameResult.Closed((WebSocketCloseStatus)BinaryPrimitives.ReadUInt16BigEndian(body), Encoding.UTF8.GetString(reason));
    }

    internal enum Opcode
    {
        Continuation = 0x0,
        Text = 0x1,
        Binary = 0x2,
        Close = 0x8,
        Ping = 0x9,
        Pong = 0xA,
    }
}
