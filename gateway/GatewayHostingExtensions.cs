using Ingest.Gateway.Bench;
using Ingest.Gateway.Ingest;
using Ingest.Gateway.Query;
using Ingest.Silo.Storage.DuckDb;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ingest.Gateway;

public static class GatewayHostingExtensions
{
    /// <summary>The port anacrolix/telemetry's server listens on, so its clients need no change.</summary>
    public const string DefaultUrl = "http://localhost:4318";

    /// <summary>Ingest endpoints (WebSocket and POST on <c>/</c>), the query endpoint and health.</summary>
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
            builder.WebHost.UseUrls(DefaultUrl);
        // Long enough for every open stream to flush and acknowledge at shutdown.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(30));

        builder.Services.AddOptions<GatewayOptions>()
            .Bind(builder.Configuration.GetSection(GatewayOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<WebSocketIngest>();
        builder.Services.AddSingleton<PostIngest>();
        builder.Services.AddSingleton<SinkSelection>();
        builder.Services.AddSingleton<BlackholeWebSocket>();
        builder.Services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage");
        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        // For context.WebSockets.IsWebSocketRequest; the handshake and the frames are ServerWebSocket's.
        app.UseWebSockets();
        app.MapIngest();
        app.MapQuery();
        app.MapBench();
        app.MapHealthChecks("/healthz");
        return app;
    }
}
