using System.Buffers;
using System.Net.WebSockets;
using Ingest.Contracts;
using Ingest.Gateway.Framing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ingest.Gateway.Ingest;

/// <summary>
/// A WebSocket stream in anacrolix/telemetry's protocol: every text or binary message is
/// one event, an empty binary message hangs up, and the server answers with the number of
/// the stream's events durably stored each time that number advances.
/// </summary>
internal sealed partial class WebSocketIngest(
    IStreamGrainFactory grains,
    SinkSelection sinks,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<WebSocketIngest> logger)
{
    private const int BatchEvents = 4096;
    private const int BatchBytes = 1024 * 1024;

    private enum Ending
    {
        HungUp,
        ClientClosed,
        Aborted,
        Failed,
    }

    public async Task HandleAsync(HttpContext context)
    {
        // Everything that can refuse the stream is settled before the upgrade, so a client hears why over HTTP.
        var stream = StreamRequest.Parse(context.Request, sinks.Deployed, out var invalid);
        if (stream is null)
        {
            await Results.Text($"{invalid}\n", statusCode: StatusCodes.Status400BadRequest).ExecuteAsync(context);
            return;
        }
        var key = stream.Key;
        var grain = grains.GetGrain(key);
        var opening = StreamOpening.From(context, StreamTransport.WebSocket, stream, time);
        StreamProgress opened;
        try
        {
            opened = await grain.OpenAsync(opening);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogStorageFailed(key, exception);
            context.Response.Headers.RetryAfter = "1";
            await Results.Text($"storage failed: {exception.Message}\n", statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
            return;
        }
        var firstSeq = stream.FirstSeq ?? opened.Position + 1;
        stream.Describe(context.Response, opened);
        if (firstSeq > opened.Position + 1)
        {
            await Results.Text($"{stream.Gap(opened.Position, firstSeq)}\n", statusCode: StatusCodes.Status409Conflict).ExecuteAsync(context);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        LogOpened(key, opening.RemoteAddress);
        var acks = new WebSocketAcks(socket, stream);
        // A named stream's client learns first where the stream stands, and resumes from there.
        if (stream.Named)
            acks.OnStored(key, opened);
        using var subscription = grains.Observe(key, acks);
        using var sending = new CancellationTokenSource();
        var sender = acks.RunAsync(sending.Token);
        using var stopping = lifetime.ApplicationStopping.Register(() => _ = ShutDownAsync(grain, acks));

        var rejections = new RejectionLog(options.Value.RejectionsListed);
        Ending ending;
        try
        {
            ending = await ReceiveAsync(socket, grain, key, new EventBatchBuilder(firstSeq), rejections, context.RequestAborted);
            var closedAt = time.GetUtcNow();
            var progress = await WhileBehindAsync(() => grain.CloseAsync(closedAt), () => grain.CloseAsync(closedAt), context.RequestAborted);
            LogClosed(key, ending, progress.Stored, progress.Rejected);
            if (rejections.First is { } first)
                LogRejections(key, rejections.Count, first.ToString());
            if (ending == Ending.Aborted)
                return;
            acks.OnStored(key, progress);
            acks.Close(WebSocketCloseStatus.NormalClosure, CloseReason(progress, rejections));
        }
        catch (StreamSequenceException gap)
        {
            ending = Ending.Failed;
            acks.Close(WebSocketCloseStatus.PolicyViolation, stream.Gap(gap.Position, gap.FirstSeq));
        }
        catch (Exception exception) when (exception is not (OperationCanceledException or WebSocketException))
        {
            // Storage failed: the counts already sent are all the client may rely on.
            LogStorageFailed(key, exception);
            ending = Ending.Failed;
            acks.Close(WebSocketCloseStatus.InternalServerError, $"storage failed: {exception.Message}");
        }
        sending.CancelAfter(options.Value.CloseTimeout);
        try
        {
            await sender;
            if (ending is Ending.HungUp or Ending.Failed)
                await AwaitClientCloseAsync(socket, sending.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
            socket.Abort();
        }
    }

    private async Task<Ending> ReceiveAsync(WebSocket socket, IStreamGrain grain, StreamKey key, EventBatchBuilder builder, RejectionLog rejections, CancellationToken aborted)
    {
        var maxEventBytes = options.Value.MaxEventBytes;
        // Small to start with, since an idle stream holds it; it grows for a larger message.
        var buffer = ArrayPool<byte>.Shared.Rent(4 * 1024);
        var appending = Task.CompletedTask;
        var length = 0;
        var oversize = false;
        long events = 0;
        // When the batch's first message arrived: its events' received_at.
        var batchStarted = default(DateTimeOffset);
        try
        {
            while (true)
            {
                var receive = socket.ReceiveAsync(buffer.AsMemory(length), aborted);
                // Batch whatever already arrived; hand it to the grain when the socket goes quiet and
                // the last batch has been taken. A client writing a message or two at a time would
                // otherwise cost a grain call per write; this way batches grow while the grain is busy.
                if (!receive.IsCompleted && !builder.IsEmpty && appending.IsCompleted)
                {
                    await appending;
                    appending = AppendAsync(grain, builder.Build(batchStarted), aborted);
                }
                var result = await receive;
                if (result.MessageType == WebSocketMessageType.Close)
                    return Ending.ClientClosed;
                if (!oversize)
                    length += result.Count;
                if (!result.EndOfMessage)
                {
                    if (length == buffer.Length)
                    {
                        if (length > maxEventBytes)
                        {
                            oversize = true;
                            length = 0;
                        }
                        else
                        {
                            buffer = Grow(buffer, length);
                        }
                    }
                    continue;
                }

                if (result.MessageType == WebSocketMessageType.Binary && length == 0 && !oversize)
                    return Ending.HungUp;
                events++;
                if (builder.IsEmpty)
                    batchStarted = time.GetUtcNow();
                var message = buffer.AsSpan(0, length);
                var error = oversize ? JsonEventFramer.TooLarge(maxEventBytes) : JsonEventFramer.Validate(message, maxEventBytes);
                if (error is null)
                {
                    builder.Add(message.Trim(" \t\r\n"u8));
                }
                else
                {
                    builder.Reject();
                    rejections.Add(new EventRejection(events, 0, error));
                    LogRejected(key, events, error);
                }
                length = 0;
                oversize = false;
                if (builder.Count >= BatchEvents || builder.Bytes >= BatchBytes)
                {
                    await appending;
                    appending = AppendAsync(grain, builder.Build(batchStarted), aborted);
                }
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or IOException && !appending.IsFaulted)
        {
            // The client went away. (A faulted append is storage failing, and goes to the caller.)
            return Ending.Aborted;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await appending;
            if (!builder.IsEmpty)
                await AppendAsync(grain, builder.Build(batchStarted), aborted);
        }
    }

    /// <summary>
    /// Hands a batch to the grain. While storage is behind, the grain keeps the batch and this
    /// waits for storage to take it, so the socket is not read meanwhile: the client is held
    /// back by TCP flow control, and the node's memory stays bounded.
    /// </summary>
    private Task<StreamProgress> AppendAsync(IStreamGrain grain, EventBatch batch, CancellationToken aborted) =>
        WhileBehindAsync(async () =>
        {
            await grain.AppendAsync(batch);
            return StreamProgress.None;
        }, () => grain.FlushAsync(), aborted);

    /// <summary>Runs <paramref name="call"/>; while storage is behind, waits as told and runs <paramref name="retry"/>.</summary>
    private async Task<StreamProgress> WhileBehindAsync(Func<ValueTask<StreamProgress>> call, Func<ValueTask<StreamProgress>> retry, CancellationToken aborted)
    {
        TimeSpan wait;
        try
        {
            return await call();
        }
        catch (StorageBackpressureException behind)
        {
            wait = behind.RetryAfter;
        }
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(aborted, lifetime.ApplicationStopping);
        while (true)
        {
            await Task.Delay(wait, time, waiting.Token);
            try
            {
                return await retry();
            }
            catch (StorageBackpressureException behind)
            {
                wait = behind.RetryAfter;
            }
        }
    }

    private static byte[] Grow(byte[] buffer, int length)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
        buffer.AsSpan(0, length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }

    /// <summary>At shutdown: make everything received durable, acknowledge it, and say goodbye.</summary>
    private async Task ShutDownAsync(IStreamGrain grain, WebSocketAcks acks)
    {
        try
        {
            await grain.FlushAsync();
        }
        catch (Exception exception)
        {
            LogShutdownFlushFailed(exception);
        }
        finally
        {
            acks.Close(WebSocketCloseStatus.EndpointUnavailable, "server shutting down");
        }
    }

    /// <summary>After our close frame, reads (and drops) until the client's close frame arrives.</summary>
    private static async Task AwaitClientCloseAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var scratch = new byte[1024];
        while (socket.State == WebSocketState.CloseSent)
        {
            var result = await socket.ReceiveAsync(scratch, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
                return;
        }
    }

    private static string CloseReason(StreamProgress progress, RejectionLog rejections) =>
        (rejections.First, progress.Duplicates) switch
        {
            (null, 0) => $"stored {progress.Stored}",
            (null, var duplicates) => $"stored {progress.Stored}, duplicate {duplicates}",
            ({ } first, _) => $"stored {progress.Stored}, rejected {progress.Rejected}; first: {first}",
        };

    [LoggerMessage(Level = LogLevel.Error, Message = "WebSocket stream {Key} failed to store its events")]
    private partial void LogStorageFailed(StreamKey key, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Flushing a WebSocket stream at shutdown failed")]
    private partial void LogShutdownFlushFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "WebSocket stream {Key} opened from {Remote}")]
    private partial void LogOpened(StreamKey key, string? remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WebSocket stream {Key} rejected {Count} events; first: {First}")]
    private partial void LogRejections(StreamKey key, long count, string first);

    [LoggerMessage(Level = LogLevel.Debug, Message = "WebSocket stream {Key} ended ({Ending}): {Stored} stored, {Rejected} rejected")]
    private partial void LogClosed(StreamKey key, Ending ending, long stored, long rejected);

    [LoggerMessage(Level = LogLevel.Debug, Message = "WebSocket stream {Key} rejected event {Event}: {Reason}")]
    private partial void LogRejected(StreamKey key, long @event, string reason);
}
