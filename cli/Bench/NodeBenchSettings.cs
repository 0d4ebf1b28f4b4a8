namespace Ingest.Cli.Bench;

/// <summary>What <c>bench node</c> was asked to measure.</summary>
/// <param name="Url">A running node or balancer; null starts a throwaway node.</param>
/// <param name="PostStreams">Concurrent POST connections, each sending its share as consecutive requests.</param>
/// <param name="WebSocketStreams">Concurrent WebSockets, one message per event.</param>
/// <param name="Events">Events per scenario.</param>
/// <param name="PostEvents">Events per POST request.</param>
/// <param name="LatencyPostEvents">Events per POST request of the half-rate run, on named streams: what a client that wants its acknowledgements soon sends.</param>
/// <param name="Rate">Events per second over all streams; 0 sends as fast as the node takes them.</param>
/// <param name="Idle">Idle WebSockets to hold open at once; 0 skips that scenario.</param>
/// <param name="LatencyAtHalf">After each full-speed run, run again at half its rate and report that latency.</param>
internal sealed record NodeBenchSettings(
    string? Url,
    BenchTransports Transports,
    int PostStreams,
    int WebSocketStreams,
    int Events,
    int EventSize,
    BenchShape Shape,
    int PostEvents,
    int LatencyPostEvents,
    int Rate,
    int Idle,
    bool Baselines,
    bool LatencyAtHalf,
    bool Smoke)
{
    public const int DefaultEvents = 1_000_000;
    public const int DefaultPostStreams = 8;
    public const int DefaultWebSocketStreams = 100;
    public const int DefaultPostEvents = 50_000;
    public const int DefaultLatencyPostEvents = 1_000;

    /// <summary>Seconds-long, for CI: the same code paths with tiny sizes.</summary>
    public const int SmokeEvents = 20_000;
    public const int SmokeStreams = 4;
    public const int SmokePostEvents = 2_000;

    public bool Post => Transports.HasFlag(BenchTransports.Post);

    public bool WebSocket => Transports.HasFlag(BenchTransports.WebSocket);

    /// <summary>What makes these settings unusable, if anything.</summary>
    public string? Problem() =>
        Url is not null && !(Uri.TryCreate(Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
            ? $"--url must be an http:// address such as http://127.0.0.1:4318 (got '{Url}')."
        : Events < 1 ? "--events must be positive."
        : PostStreams < 1 || WebSocketStreams < 1 ? "--streams must be positive."
        : (Post && PostStreams > Events) || (WebSocket && WebSocketStreams > Events) ? "--events must give every stream at least one event."
        : EventSize is < 64 or > 1024 * 1024 ? "--event-size must be between 64 and 1048576 bytes."
        : (long)Events * (EventSize + 64) > Array.MaxLength ? "--events times --event-size must stay under 2 GiB: the events are held in memory."
        : PostEvents < 1 || LatencyPostEvents < 1 ? "--post-events and --latency-post-events must be positive."
        : Rate < 0 ? "--rate must be 0 (as fast as possible) or a positive number of events per second."
        : Idle < 0 ? "--idle must be 0 (skip) or a number of WebSockets."
        : null;
}
