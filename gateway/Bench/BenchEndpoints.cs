using Ingest.Gateway.Ingest;
using Microsoft.Extensions.Options;

namespace Ingest.Gateway.Bench;

/// <summary>
/// What <c>ingest bench node</c> measures against: the node's own resource use, and (unless
/// <c>Gateway:Blackhole</c> is off) both ingest protocols with nothing behind them.
/// </summary>
internal static class BenchEndpoints
{
    public const string BlackholePath = "/v1/blackhole";
    public const string NodePath = "/v1/node";

    public static IEndpointRouteBuilder MapBench(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(NodePath, (Silo.Storage.DuckDb.DuckDbEventSink sink, Silo.Storage.DuckDb.DuckDbDatabase database) =>
            Results.Ok(NodeStats.Read(sink, database)));
        if (!endpoints.ServiceProvider.GetRequiredService<IOptions<GatewayOptions>>().Value.Blackhole)
            return endpoints;
        endpoints.MapPost(BlackholePath, BlackholePost.HandleAsync);
        endpoints.MapMethods(BlackholePath, IngestEndpoints.WebSocketMethods, (HttpContext context, BlackholeWebSocket webSockets) =>
            context.WebSockets.IsWebSocketRequest
                ? webSockets.HandleAsync(context)
                : Results.Text("Open a WebSocket here or POST newline-delimited JSON: both are counted and dropped.\n",
                    statusCode: StatusCodes.Status426UpgradeRequired).ExecuteAsync(context));
        return endpoints;
    }
}
