using System.Net.WebSockets;
using Ingest.Contracts;
using Ingest.Gateway.Framing;
using Ingest.Gateway.WebSockets;
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
    private enum Ending
    {
        HungUp,
        ClientClosed,
        Aborted,
        Failed,

        /// <summary>The client broke the WebSocket protocol.</summary>
        Broken,
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

        using var socket = await ServerWebSocket.AcceptAsync(context, options.Value.MaxEventBytes, options.Value.KeepAliveInterval, time);
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
        var messages = new WebSocketMessages(key, new EventBatchBuilder(firstSeq), rejections, options.Value.MaxEventBytes, time, logger);
        Ending ending;
        try
        {
            var last = await ReceiveAsync(socket, grain, messages, context.RequestAborted);
            ending = last.Stop switch
            {
                ClientFrameStop.Closed => Ending.ClientClosed,
                ClientFrameStop.Failed => Ending.Broken,
                ClientFrameStop.Ended => Ending.Aborted,
                _ => Ending.HungUp,
            };
            var closedAt = time.GetUtcNow();
            var progress = await WhileBehindAsync(() => grain.CloseAsync(closedAt), () => grain.CloseAsync(closedAt), context.RequestAborted);
            LogClosed(key, ending, progress.Stored, progress.Rejected);
            if (rejections.First is { } first)
                LogRejections(key, rejections.Count, first.ToString());
            if (ending == Ending.Aborted)
                return;
            acks.OnStored(key, progress);
            if (ending == Ending.Broken)
            {
                LogBroken(key, last.Reason);
                acks.Close(last.Status!.Value, $"{last.Reason}; {CloseReason(progress, rejections)}");
            }
            else
            {
                acks.Close(WebSocketCloseStatus.NormalClosure, CloseReason(progress, rejections));
            }
        }
        catch (StreamSequenceException gap)
        {
            ending = Ending.Failed;
            acks.Close(WebSocketCloseStatus.PolicyViolation, stream.Gap(gap.Position, gap.FirstSeq));
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
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
            if (ending is Ending.HungUp or Ending.Failed or Ending.Broken)
                await socket.WaitForCloseAsync(sending.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or InvalidOperationException)
        {
            socket.Abort();
        }
    }

    /// <summary>Reads the stream's events until the client hangs up, closes, breaks the protocol or goes away; returns which.</summary>
    private async Task<ClientFrameResult> ReceiveAsync(ServerWebSocket socket, IStreamGrain grain, WebSocketMessages messages, CancellationToken aborted)
    {
        var appending = Task.CompletedTask;
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(messages, aborted);
                if (read.Stop == ClientFrameStop.Quiet)
                {
                    // Hand the grain what arrived when the socket goes quiet and the last batch has been
                    // taken. A client writing a message or two at a time would otherwise cost a grain
                    // call per write; this way batches grow while the grain is busy.
                    if (!messages.IsEmpty && appending.IsCompleted)
                    {
                        await appending;
                        appending = AppendAsync(grain, messages.Build(), aborted);
                    }
                }
                else if (read.Stop == ClientFrameStop.Paused && !messages.HungUp)
                {
                    // A full batch.
                    await appending;
                    appending = AppendAsync(grain, messages.Build(), aborted);
                }
                else
                {
                    return read;
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException && !appending.IsFaulted)
        {
            // The client went away. (A faulted append is storage failing, and goes to the caller.)
            return ClientFrameResult.Ended;
        }
        finally
        {
            await appending;
            if (!messages.IsEmpty)
                await AppendAsync(grain, messages.Build(), aborted);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "WebSocket stream {Key} broke the protocol: {Reason}")]
    private partial void LogBroken(StreamKey key, string? reason);
}
