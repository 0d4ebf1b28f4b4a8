using System.Globalization;
using System.Text;
using Ingest.Contracts;
using Ingest.Gateway.Framing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ingest.Gateway.Ingest;

/// <summary>
/// A POST stream: the body is read as it arrives and split into events, and the answer,
/// sent once every accepted event is durable, starts with the number stored (what
/// anacrolix/telemetry clients read), followed by what was rejected and why.
/// </summary>
internal sealed partial class PostIngest(
    IStreamGrainFactory grains,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<PostIngest> logger)
{
    private enum Ending
    {
        Complete,
        ClientGone,
        ShuttingDown,
        BadEncoding,
    }

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var refusal = BodyEncoding.CheckContentType(request.ContentType);
        var body = refusal is null ? BodyEncoding.Decode(request, out refusal) : null;
        if (body is null)
        {
            LogRefused(refusal!);
            await RespondAsync(context, StatusCodes.Status415UnsupportedMediaType, $"0\n{refusal}\n");
            return;
        }
        // A stream may be long-lived and slow; Kestrel's body size and rate limits are for uploads.
        context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize = null;
        context.Features.Get<IHttpMinRequestBodyDataRateFeature>()?.MinDataRate = null;

        var key = StreamKey.New();
        var grain = grains.GetGrain(key);
        var tracker = new ProgressTracker();
        using var subscription = grains.Observe(key, tracker);
        var rejections = new RejectionLog(options.Value.RejectionsListed);
        Ending ending;
        StreamProgress progress;
        try
        {
            await grain.OpenAsync(StreamOpening.From(context, StreamTransport.Http, time));
            await using (body)
            {
                using var reader = new NdjsonBodyReader(body, options.Value.MaxEventBytes, rejections, time);
                ending = await ReadAsync(reader, grain, context.RequestAborted);
            }
            progress = await grain.CloseAsync(time.GetUtcNow());
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Storage failed: answer with what is durable, which is all a client may count on.
            LogStorageFailed(key, exception);
            context.Response.Headers.Connection = "close";
            await RespondAsync(context, StatusCodes.Status503ServiceUnavailable,
                $"{tracker.Stored}\nstorage failed, so only the first {tracker.Stored} events are stored: {exception.Message}\n");
            return;
        }
        LogClosed(key, ending, progress.Stored, progress.Rejected);
        if (rejections.First is { } first)
            LogRejections(key, rejections.Count, first.ToString());
        if (ending == Ending.ClientGone)
            return;

        context.Response.Headers["X-Stream-Id"] = key.Value;
        context.Response.Headers["X-Events-Stored"] = progress.Stored.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers["X-Events-Rejected"] = progress.Rejected.ToString(CultureInfo.InvariantCulture);
        var (status, note) = ending switch
        {
            Ending.ShuttingDown => (StatusCodes.Status503ServiceUnavailable, "server shutting down: the rest of the body was not read"),
            Ending.BadEncoding => (StatusCodes.Status400BadRequest, "body could not be decoded with its Content-Encoding: the rest was not read"),
            _ when progress.Stored == 0 && progress.Rejected > 0 => (StatusCodes.Status400BadRequest, null),
            _ => (StatusCodes.Status200OK, null),
        };
        if (ending == Ending.ShuttingDown)
            context.Response.Headers.RetryAfter = "1";
        // The rest of the body was left unread: close rather than let Kestrel wait to drain it.
        if (ending != Ending.Complete)
            context.Response.Headers.Connection = "close";
        await RespondAsync(context, status, Answer(progress, rejections, note));
    }

    private async Task<Ending> ReadAsync(NdjsonBodyReader reader, IStreamGrain grain, CancellationToken aborted)
    {
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(aborted, lifetime.ApplicationStopping);
        // One append in flight while the next batch is read: parsing overlaps the sink write.
        var appending = Task.CompletedTask;
        try
        {
            while (await reader.ReadBatchAsync(reading.Token) is { } batch)
            {
                await appending;
                appending = grain.AppendAsync(batch).AsTask();
            }
            return Ending.Complete;
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            return aborted.IsCancellationRequested || exception is not OperationCanceledException
                ? Ending.ClientGone
                : Ending.ShuttingDown;
        }
        catch (InvalidDataException)
        {
            return Ending.BadEncoding;
        }
        finally
        {
            await appending;
        }
    }

    /// <summary>The count first, alone on the first line, so clients that read one number get it.</summary>
    private static string Answer(StreamProgress progress, RejectionLog rejections, string? note)
    {
        var stored = progress.Stored.ToString(CultureInfo.InvariantCulture);
        if (rejections.Count == 0 && note is null)
            return stored;
        var text = new StringBuilder(stored).Append('\n');
        if (note is not null)
            text.Append(note).Append('\n');
        if (rejections.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"rejected {rejections.Count}:\n");
            foreach (var rejection in rejections.Kept)
                text.Append(rejection).Append('\n');
            if (rejections.Count > rejections.Kept.Count)
                text.Append(CultureInfo.InvariantCulture, $"... and {rejections.Count - rejections.Kept.Count} more\n");
        }
        return text.ToString();
    }

    private static Task RespondAsync(HttpContext context, int status, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes).AsTask();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "POST refused: {Reason}")]
    private partial void LogRefused(string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "POST stream {Key} failed to store its events")]
    private partial void LogStorageFailed(StreamKey key, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "POST stream {Key} rejected {Count} events; first: {First}")]
    private partial void LogRejections(StreamKey key, long count, string first);

    [LoggerMessage(Level = LogLevel.Debug, Message = "POST stream {Key} ended ({Ending}): {Stored} stored, {Rejected} rejected")]
    private partial void LogClosed(StreamKey key, Ending ending, long stored, long rejected);
}
