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
    SinkSelection sinks,
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
        var stream = StreamRequest.Parse(request, sinks.Deployed, out var invalid);
        if (stream is null)
        {
            LogRefused(invalid!);
            await RespondAsync(context, StatusCodes.Status400BadRequest, $"0\n{invalid}\n");
            return;
        }
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

        var key = stream.Key;
        var grain = grains.GetGrain(key);
        var tracker = new ProgressTracker();
        using var subscription = grains.Observe(key, tracker);
        var rejections = new RejectionLog(options.Value.RejectionsListed);
        Ending ending;
        StreamProgress opened;
        StreamProgress progress;
        try
        {
            opened = await grain.OpenAsync(StreamOpening.From(context, StreamTransport.Http, stream, time));
            tracker.OnStored(key, opened);
            var firstSeq = stream.FirstSeq ?? opened.Position + 1;
            if (firstSeq > opened.Position + 1)
                throw new StreamSequenceException(key, opened.Position, firstSeq);
            await using (body)
            {
                using var reader = new NdjsonBodyReader(body, options.Value.MaxEventBytes, rejections, time, firstSeq);
                ending = await ReadAsync(reader, grain, context.RequestAborted);
            }
            progress = await grain.CloseAsync(time.GetUtcNow());
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            await RespondToFailureAsync(context, stream, tracker.Latest, exception);
            return;
        }
        LogClosed(key, ending, progress.Stored, progress.Rejected);
        if (rejections.First is { } first)
            LogRejections(key, rejections.Count, first.ToString());
        if (ending == Ending.ClientGone)
            return;

        stream.Describe(context.Response, progress);
        var (status, note) = ending switch
        {
            Ending.ShuttingDown => (StatusCodes.Status503ServiceUnavailable, "server shutting down: the rest of the body was not read"),
            Ending.BadEncoding => (StatusCodes.Status400BadRequest, "body could not be decoded with its Content-Encoding: the rest was not read"),
            _ when progress.Stored == opened.Stored && progress.Rejected > opened.Rejected => (StatusCodes.Status400BadRequest, null),
            _ => (StatusCodes.Status200OK, null),
        };
        if (ending == Ending.ShuttingDown)
            context.Response.Headers.RetryAfter = "1";
        // The rest of the body was left unread: close rather than let Kestrel wait to drain it.
        if (ending != Ending.Complete)
            context.Response.Headers.Connection = "close";
        var duplicates = progress.Duplicates - opened.Duplicates;
        if (duplicates > 0)
            note = $"{(note is null ? "" : note + "\n")}duplicate {duplicates}: the stream already held them, so they were dropped";
        await RespondAsync(context, status, Answer(stream.Count(progress), rejections, note));
    }

    /// <summary>
    /// Nothing more is read. The answer starts with what is durable, which is all a client may
    /// count on; a resuming client sends again from there.
    /// </summary>
    private async Task RespondToFailureAsync(HttpContext context, StreamRequest stream, StreamProgress durable, Exception exception)
    {
        var count = stream.Count(durable);
        stream.Describe(context.Response, durable);
        context.Response.Headers.Connection = "close";
        switch (exception)
        {
            case StreamSequenceException gap:
                LogGap(stream.Key, gap.Position, gap.FirstSeq);
                await RespondAsync(context, StatusCodes.Status409Conflict, $"{count}\n{stream.Gap(gap.Position, gap.FirstSeq)}\n");
                break;
            case StorageBackpressureException behind:
                LogBackpressure(stream.Key, exception.Message);
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(behind.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await RespondAsync(context, StatusCodes.Status503ServiceUnavailable,
                    $"{count}\nstorage is behind, so only events up to {durable.Position} are stored: {exception.Message}\n");
                break;
            default:
                // Storage that failed may well be back soon (PostgreSQL restarting, say); the client may retry.
                context.Response.Headers.RetryAfter = "1";
                LogStorageFailed(stream.Key, exception);
                await RespondAsync(context, StatusCodes.Status503ServiceUnavailable,
                    $"{count}\nstorage failed, so only events up to {durable.Position} are stored: {exception.Message}\n");
                break;
        }
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
    private static string Answer(long count, RejectionLog rejections, string? note)
    {
        var stored = count.ToString(CultureInfo.InvariantCulture);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "POST stream {Key} refused: it holds events up to {Position}, and the request starts at {FirstSeq}")]
    private partial void LogGap(StreamKey key, long position, long firstSeq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "POST stream {Key} answered 503: {Reason}")]
    private partial void LogBackpressure(StreamKey key, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "POST stream {Key} failed to store its events")]
    private partial void LogStorageFailed(StreamKey key, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "POST stream {Key} rejected {Count} events; first: {First}")]
    private partial void LogRejections(StreamKey key, long count, string first);

    [LoggerMessage(Level = LogLevel.Debug, Message = "POST stream {Key} ended ({Ending}): {Stored} stored, {Rejected} rejected")]
    private partial void LogClosed(StreamKey key, Ending ending, long stored, long rejected);
}
