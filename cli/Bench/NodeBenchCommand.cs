using System.CommandLine;

namespace Ingest.Cli.Bench;

/// <summary><c>bench node</c>'s options, and the settings they make.</summary>
internal static class NodeBenchCommand
{
    public static Command Create()
    {
        var url = new Option<string?>("--url")
        {
            Description = "A running node or balancer, e.g. http://127.0.0.1:4318. Default: a throwaway node started for the run (DuckDB only).",
        };
        var transport = new Option<string>("--transport") { Description = "Which protocol to drive.", DefaultValueFactory = _ => "both" };
        transport.AcceptOnlyFromAmong("post", "ws", "both");
        var streams = new Option<int?>("--streams")
        {
            Description = $"Concurrent streams. Default: {NodeBenchSettings.DefaultPostStreams} for POST, {NodeBenchSettings.DefaultWebSocketStreams} for WebSocket.",
        };
        var events = new Option<int?>("--events") { Description = $"Events per run. Default: {NodeBenchSettings.DefaultEvents:N0}." };
        var eventSize = new Option<int>("--event-size")
        {
            Description = "Approximate bytes of JSON per event; a message field pads each to it. Each shape has a floor: flat ~110, wide ~180, nested ~420.",
            DefaultValueFactory = _ => 200,
        };
        var shape = new Option<string>("--shape")
        {
            Description = "wide: a dozen fields, one nested object; nested: objects and arrays of objects three and four deep; flat: a few top-level fields.",
            DefaultValueFactory = _ => "wide",
        };
        shape.AcceptOnlyFromAmong("wide", "nested", "flat");
        var postEvents = new Option<int?>("--post-events")
        {
            Description = $"Events per POST request; a stream sends its share as consecutive requests. Default: {NodeBenchSettings.DefaultPostEvents:N0}.",
        };
        var latencyPostEvents = new Option<int?>("--latency-post-events")
        {
            Description = $"Events per POST request in the half-rate run, on named streams (a POST is acknowledged once, at its end, so its size bounds its latency). Default: {NodeBenchSettings.DefaultLatencyPostEvents:N0}.",
        };
        var rate = new Option<int>("--rate") { Description = "Events/s over all streams; 0 sends as fast as the node takes them.", DefaultValueFactory = _ => 0 };
        var idle = new Option<int>("--idle") { Description = "Also hold this many idle WebSockets open and measure the node's memory (0: skip).", DefaultValueFactory = _ => 0 };
        var baselines = new Option<string>("--baselines")
        {
            Description = "all: the blackhole, the raw DuckDB appender and parsing alone, in the same run; none: the node only.",
            DefaultValueFactory = _ => "all",
        };
        baselines.AcceptOnlyFromAmong("all", "none");
        var noBaselines = new Option<bool>("--no-baselines") { Description = "The same as --baselines none." };
        var latencyAtHalf = new Option<bool?>("--latency-at-half")
        {
            Description = "After each full-speed run, run again at half its rate and report that latency. Default: on, except with --smoke or --rate.",
        };
        var smoke = new Option<bool>("--smoke")
        {
            Description = $"Seconds long, for CI: {NodeBenchSettings.SmokeEvents:N0} events, {NodeBenchSettings.SmokeStreams} streams, {NodeBenchSettings.SmokePostEvents:N0} events per POST unless given.",
        };
        var command = new Command("node", "A node over POST and WebSocket against a blackhole, the raw DuckDB appender and parsing alone.")
        {
            url, transport, streams, events, eventSize, shape, postEvents, latencyPostEvents, rate, idle, baselines, noBaselines, latencyAtHalf, smoke,
        };
        command.SetAction(async result =>
        {
            var isSmoke = result.GetValue(smoke);
            var given = result.GetValue(streams);
            var settings = new NodeBenchSettings(
                result.GetValue(url),
                result.GetValue(transport) switch { "post" => BenchTransports.Post, "ws" => BenchTransports.WebSocket, _ => BenchTransports.Both },
                given ?? (isSmoke ? NodeBenchSettings.SmokeStreams : NodeBenchSettings.DefaultPostStreams),
                given ?? (isSmoke ? NodeBenchSettings.SmokeStreams : NodeBenchSettings.DefaultWebSocketStreams),
                result.GetValue(events) ?? (isSmoke ? NodeBenchSettings.SmokeEvents : NodeBenchSettings.DefaultEvents),
                result.GetValue(eventSize),
                Enum.Parse<BenchShape>(result.GetValue(shape)!, ignoreCase: true),
                result.GetValue(postEvents) ?? (isSmoke ? NodeBenchSettings.SmokePostEvents : NodeBenchSettings.DefaultPostEvents),
                result.GetValue(latencyPostEvents) ?? (isSmoke ? NodeBenchSettings.SmokePostEvents / 4 : NodeBenchSettings.DefaultLatencyPostEvents),
                result.GetValue(rate),
                result.GetValue(idle),
                result.GetValue(baselines) != "none" && !result.GetValue(noBaselines),
                result.GetValue(latencyAtHalf) ?? (!isSmoke && result.GetValue(rate) == 0),
                isSmoke);
            if (settings.Problem() is { } problem)
            {
                Console.Error.WriteLine(problem);
                return 1;
            }
            using var shutdown = new ShutdownSignal();
            return await NodeBench.RunAsync(settings, Console.Out, shutdown.Token);
        });
        return command;
    }
}
