using System.Net.WebSockets;
using Ingest.Contracts;
using Ingest.Gateway.Ingest;
using Ingest.Gateway.WebSockets;
using Microsoft.Extensions.Options;

namespace Ingest.Gateway.Bench;

/// <summary>
/// <c>GET /v1/blackhole</c> as a WebSocket: every message is read as on <c>/</c> (the same
/// <see cref="ServerWebSocket"/>), counted and dropped, and the count goes back through the real
/// endpoint's <see cref="WebSocketAcks"/>, raised when the socket goes quiet or every
/// <see cref="AckEvents"/> events, much as the real endpoint hands the grain a batch. An empty
/// binary message hangs up, as on <c>/</c>.
/// </summary>
internal sealed class BlackholeWebSocket(IOptions<GatewayOptions> options, TimeProvider time)
{
    private const int AckEvents = 4096;

    public async Task HandleAsync(HttpContext context)
    {
        using var socket = await ServerWebSocket.AcceptAsync(context, options.Value.MaxEventBytes, options.Value.KeepAliveInterval, time);
        var key = StreamKey.New();
        var acks = new WebSocketAcks(socket, new StreamRequest(key, Named: false, FirstSeq: null, StorageSinks.None));
        using var sending = new CancellationTokenSource();
        var sender = acks.RunAsync(sending.Token);

        var counter = new Counter();
        var last = await ReceiveAsync(socket, counter, acks, key, context.RequestAborted);
        if (last.Stop == ClientFrameStop.Ended)
        {
            // The client went away: no one to acknowledge.
            socket.Abort();
            sending.Cancel();
        }
        else
        {
            acks.OnStored(key, Stored(counter.Events));
            acks.Close(last.Status ?? WebSocketCloseStatus.NormalClosure, $"stored {counter.Events}");
            sending.CancelAfter(options.Value.CloseTimeout);
        }
        try
        {
            await sender;
            if (last.Stop != ClientFrameStop.Closed)
                await socket.WaitForCloseAsync(sending.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or InvalidOperationException)
        {
            socket.Abort();
        }
    }

    private static async Task<ClientFrameResult> ReceiveAsync(ServerWebSocket socket, Counter counter, WebSocketAcks acks, StreamKey key, CancellationToken aborted)
    {
        long acked = 0;
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(counter, aborted);
                if (read.Stop is ClientFrameStop.Quiet or ClientFrameStop.Paused && !counter.HungUp)
                {
                    if (counter.Events > acked)
                    {
                        acks.OnStored(key, Stored(counter.Events));
                        acked = counter.Events;
                    }
                    continue;
                }
                return read;
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            return ClientFrameResult.Ended;
        }
    }

    private static StreamProgress Stored(long events) => new(events, 0, 0, 0);

    /// <summary>Counts messages; pauses every <see cref="AckEvents"/> so that a count goes out.</summary>
    private sealed class Counter : IClientMessages
    {
        public long Events { get; private set; }

        public bool HungUp { get; private set; }

        public bool OnMessage(ReadOnlySpan<byte> payload, bool binary, bool oversize)
        {
            if (binary && payload.IsEmpty && !oversize)
            {
                HungUp = true;
                return false;
            }
            Events++;
            return Events % AckEvents != 0;
        }
    }
}
