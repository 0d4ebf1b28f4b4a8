using Ingest.Contracts;

namespace Ingest.Gateway.Ingest;

internal static class IngestEndpoints
{
    /// <summary>A WebSocket opens with a GET over HTTP/1.1 and with a CONNECT over HTTP/2 (RFC 8441).</summary>
    public static readonly string[] WebSocketMethods = [HttpMethods.Get, HttpMethods.Connect];

    /// <summary>Both transports share the path <c>/</c>, as in anacrolix/telemetry.</summary>
    public static IEndpointRouteBuilder MapIngest(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMethods("/", WebSocketMethods, (HttpContext context, WebSocketIngest webSockets) =>
            context.WebSockets.IsWebSocketRequest
                ? webSockets.HandleAsync(context)
                : Results.Text(
                    "Open a WebSocket here (one message per event) or POST newline-delimited JSON. Query with POST /v1/query.\n",
                    statusCode: StatusCodes.Status426UpgradeRequired).ExecuteAsync(context));
        endpoints.MapPost("/", (HttpContext context, PostIngest posts) => posts.HandleAsync(context));
        // Where a named stream stands, for a client about to resume it.
        endpoints.MapGet("/v1/streams/{id}", async (string id, IStreamGrainFactory grains) =>
        {
            if (id.Length > StreamKey.MaxLength)
                return Results.NotFound();
            var progress = await grains.GetGrain(new StreamKey(id)).GetProgressAsync();
            return progress is null
                ? Results.NotFound(new { error = $"stream {id} does not exist" })
                : Results.Ok(new { id, position = progress.Position, stored = progress.Stored, bytes = progress.Bytes, rejected = progress.Rejected, duplicates = progress.Duplicates });
        });
        return endpoints;
    }
}
