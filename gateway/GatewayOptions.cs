using System.ComponentModel.DataAnnotations;

namespace Ingest.Gateway;

/// <summary>Limits of the ingest endpoints; configuration section "Gateway".</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>Largest event accepted, in bytes; larger ones are rejected and counted.</summary>
    [Range(1, 64 * 1024 * 1024)]
    public int MaxEventBytes { get; set; } = 1024 * 1024;

    /// <summary>How many rejections a POST response describes one by one.</summary>
    [Range(0, 10_000)]
    public int RejectionsListed { get; set; } = 100;

    /// <summary>How long a closing WebSocket waits for the client's close frame.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a WebSocket is sent a pong as keep-alive, so that idle streams stay open through proxies.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Serves <c>/v1/blackhole</c>, which reads POST bodies and WebSocket messages as <c>/</c> does
    /// and drops them: the network baseline of <c>ingest bench node</c>.
    /// </summary>
    public bool Blackhole { get; set; } = true;
}
