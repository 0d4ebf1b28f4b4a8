namespace Ingest.Gateway.Ingest;

internal static class IngestEndpoints
{
    /// <summary>Both transports share the path <c>/</c>, as in anacrolix/telemetry.</summary>
    public static IEndpointRouteBuilder MapIngest(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", (HttpContext context, WebSocketIngest webSockets) =>
            context.WebSockets.IsWebSocketRequest
                ? webSockets.HandleAsync(context)
                : Results.Text(
                    "Open a WebSocket here (one message per event) or POST newline-delimited JSON. Query with POST /v1/query.\n",
                    statusCode: StatusCodes.Status426UpgradeRequired).ExecuteAsync(context));
        endpoints.MapPost("/", (HttpContext context, PostIngest posts) => posts.HandleAsync(context));
        return endpoints;
    }
}
