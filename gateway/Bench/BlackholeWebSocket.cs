using System.Buffers;
using System.Net.WebSockets;
using Ingest.Contracts;
using Ingest.Gateway.Ingest;
using Microsoft.Extensions.Options;

namespace Ingest.Gateway.Bench;

/// <summary>
/// <c>GET /v1/blackhole</c> as a WebSocket: every message is counted and dropped, and the count
/// goes back through the real endpoint's <see cref="WebSocketAcks"/>, raised when the socket goes
/// quiet or every <see cref="AckEvents"/> events, much as the real endpoint hands the grain a
/// batch. An empty binary message hangs up, as on <c>/</c>.
/// </summary>
internal sealed class BlackholeWebSocket(IOptions<GatewayOptions> options)
{
    private const int AckEvents = 4096;

    public async Task HandleAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var key = StreamKey.New();
        var acks = new WebSocketAcks(socket, new StreamRequest(key, Named: false, FirstSeq: null, StorageSinks.None));
        using var sending = new CancellationTokenSource();
        var sender = acks.RunAsync(sending.Token);

        var (events, hungUp) = await ReceiveAsync(socket, acks, key, context.RequestAborted);
        if (events < 0)
        {
            // The client went away: no one to acknowledge.
            socket.Abort();
            sending.Cancel();
        }
        else
        {
            acks.OnStored(key, Stored(events));
            acks.Close(WebSocketCloseStatus.NormalClosure, $"stored {events}");
            sending.CancelAfter(options.Value.CloseTimeout);
        }
        try
        {
            await sender;
            var scratch = new byte[1024];
            while (hungUp && socket.State == WebSocketState.CloseSent)
            {
                var result = await socket.ReceiveAsync(scratch, sending.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                    break;
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
            socket.Abort();
        }
    }

    /// <returns>The events received, or -1 if the client went away without closing; whether it hung up.</returns>
    private static async Task<(long Events, bool HungUp)> ReceiveAsync(WebSocket socket, WebSocketAcks acks, StreamKey key, CancellationToken aborted)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        long events = 0;
        long acked = 0;
        var length = 0L;
        try
        {
            while (true)
            {
                var receive = socket.ReceiveAsync(buffer.AsMemory(), aborted);
                if (!receive.IsCompleted && events > acked)
                {
                    acks.OnStored(key, Stored(events));
                    acked = events;
                }
                var result = await receive;
                if (result.MessageType == WebSocketMessageType.Close)
                    return (events, false);
                length += result.Count;
                if (!result.EndOfMessage)
                    continue;
                if (result.MessageType == WebSocketMessageType.Binary && length == 0)
                    return (events, true);
                length = 0;
                events++;
                if (events - acked >= AckEvents)
                {
                    acks.OnStored(key, Stored(events));
                    acked = events;
                }
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or IOException)
        {
            return (-1, false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static StreamProgress Stored(long events) => new(events, 0, 0, 0);
}
