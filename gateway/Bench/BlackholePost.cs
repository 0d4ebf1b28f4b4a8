using System.Buffers;
using System.Globalization;
using Ingest.Gateway.Ingest;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Ingest.Gateway.Bench;

/// <summary>
/// <c>POST /v1/blackhole</c>: the body is read as the real endpoint reads it (same media types and
/// encodings, 64 KiB at a time) and dropped; the answer is its count of non-blank lines.
/// </summary>
internal static class BlackholePost
{
    private const int ReadSize = 64 * 1024;

    public static async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var refusal = BodyEncoding.CheckContentType(request.ContentType);
        var body = refusal is null ? BodyEncoding.Decode(request, out refusal) : null;
        if (body is null)
        {
            await RespondAsync(context, StatusCodes.Status415UnsupportedMediaType, $"0\n{refusal}\n");
            return;
        }
        context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize = null;
        context.Features.Get<IHttpMinRequestBodyDataRateFeature>()?.MinDataRate = null;

        var lines = new NdjsonLineCounter();
        var buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
        try
        {
            await using (body)
            {
                int read;
                while ((read = await body.ReadAsync(buffer.AsMemory(0, ReadSize), context.RequestAborted)) > 0)
                    lines.Add(buffer.AsSpan(0, read));
            }
        }
        catch (InvalidDataException)
        {
            context.Response.Headers.Connection = "close";
            await RespondAsync(context, StatusCodes.Status400BadRequest, $"{lines.Count}\nbody could not be decoded with its Content-Encoding\n");
            return;
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            // The client went away; there is no one to answer.
            return;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        await RespondAsync(context, StatusCodes.Status200OK, lines.Count.ToString(CultureInfo.InvariantCulture));
    }

    private static Task RespondAsync(HttpContext context, int status, string body)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes).AsTask();
    }
}
