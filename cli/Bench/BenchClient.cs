using System.Net;

namespace Ingest.Cli.Bench;

/// <summary>
/// The bench's client side: the HTTP connections POSTs go over, the WebSockets, and the sampler
/// of the node's figures. Each run gives one <see cref="BenchRun"/>.
/// </summary>
internal sealed class BenchClient : IDisposable
{
    private const int WarmUpStreams = 8;

    /// <summary>Samples of the node taken in the warm-up: well past the 30 calls after which the runtime recompiles a method.</summary>
    private const int WarmUpSamples = 100;

    /// <summary>How long the paced part of the warm-up runs.</summary>
    private static readonly TimeSpan PacedWarmUp = TimeSpan.FromSeconds(2);

    private readonly NodeBenchSettings _settings;
    private readonly HttpClient _http;
    private readonly HttpClient _sampling;
    private readonly StallWatch? _stalls;

    public BenchClient(NodeBenchSettings settings)
    {
        _settings = settings;
        _http = new HttpClient(Handler()) { Timeout = TimeSpan.FromMinutes(10) };
        _sampling = new HttpClient(Handler()) { Timeout = TimeSpan.FromSeconds(5) };
        _stalls = StallWatch.Start();
    }

    /// <summary>Whether the node serves the blackhole (a plain GET of it asks for an upgrade).</summary>
    public async Task<bool> HasBlackholeAsync(NodeTarget node, CancellationToken cancellationToken)
    {
        using var response = await _sampling.GetAsync(node.Post(blackhole: true), cancellationToken);
        return response.StatusCode == HttpStatusCode.UpgradeRequired;
    }

    /// <summary>
    /// A little of each load, untimed, so the runs measure compiled code: <paramref name="events"/>
    /// at full speed on a few streams, then <paramref name="paced"/> (if given) paced over
    /// <see cref="PacedWarmUp"/> on as many streams as the runs use, as the half-rate runs send;
    /// then the sampling of the node's figures that every run does.
    /// </summary>
    public async Task<IReadOnlyList<BenchRun>> WarmUpAsync(NodeTarget node, EventCorpus events, EventCorpus? paced, bool blackhole, CancellationToken cancellationToken)
    {
        var runs = new List<BenchRun>();
        foreach (var target in blackhole ? new[] { false, true } : [false])
        {
            var streams = Math.Min(WarmUpStreams, events.Count);
            if (_settings.Post)
            {
                var post = await PostLoad.RunAsync(_http, node.Post(target), events, streams, Math.Max(1, events.Count / 8), 0, cancellationToken);
                runs.Add(Run("warm-up", "post", target, streams, events, 0, post, null));
            }
            if (_settings.WebSocket)
            {
                var ws = await WebSocketLoad.RunAsync(node.WebSocket(target), events, streams, 0, cancellationToken);
                runs.Add(Run("warm-up", "ws", target, streams, events, 0, ws, null));
            }
        }
        if (paced is not null)
        {
            var rate = paced.Count / PacedWarmUp.TotalSeconds;
            if (_settings.Post)
            {
                var post = await PostLoad.RunAsync(_http, node.Post(false), paced, _settings.PostStreams, _settings.LatencyPostEvents, rate, cancellationToken, $"bench-{Guid.NewGuid():N}");
                runs.Add(Run("warm-up", "post", false, _settings.PostStreams, paced, rate, post, null));
            }
            if (_settings.WebSocket)
            {
                var ws = await WebSocketLoad.RunAsync(node.WebSocket(false), paced, _settings.WebSocketStreams, rate, cancellationToken);
                runs.Add(Run("warm-up", "ws", false, _settings.WebSocketStreams, paced, rate, ws, null));
            }
        }
        await new NodeSampler(_sampling, node.Address).WarmUpAsync(_settings.Smoke ? 0 : WarmUpSamples, cancellationToken);
        return runs;
    }

    /// <param name="transport">post or ws.</param>
    /// <param name="rate">Events/s over all streams; 0 for as fast as the target takes them.</param>
    public async Task<BenchRun> RunAsync(
        string scenario, string transport, NodeTarget node, bool blackhole, EventCorpus events, double rate, CancellationToken cancellationToken)
    {
        var sampler = new NodeSampler(_sampling, node.Address);
        var sampling = await sampler.StartAsync(cancellationToken);
        var gcPause = GC.GetTotalPauseDuration();
        var gen2 = GC.CollectionCount(2);
        _stalls?.Take();
        LoadOutcome outcome;
        NodeUsage? usage;
        int streams;
        try
        {
            if (transport == "post")
            {
                streams = _settings.PostStreams;
                // The half-rate run measures latency: small requests on named streams.
                outcome = rate > 0 && scenario.EndsWith("@half", StringComparison.Ordinal)
                    ? await PostLoad.RunAsync(_http, node.Post(blackhole), events, streams, _settings.LatencyPostEvents, rate, cancellationToken, $"bench-{Guid.NewGuid():N}")
                    : await PostLoad.RunAsync(_http, node.Post(blackhole), events, streams, _settings.PostEvents, rate, cancellationToken);
            }
            else
            {
                streams = _settings.WebSocketStreams;
                outcome = await WebSocketLoad.RunAsync(node.WebSocket(blackhole), events, streams, rate, cancellationToken);
            }
        }
        finally
        {
            usage = await sampling.StopAsync(cancellationToken);
        }
        return Run(scenario, transport, blackhole, streams, events, rate, outcome, usage) with
        {
            LatencyBySecond = outcome.LatencyBySecond,
            LoadGeneratorGcPause = GC.GetTotalPauseDuration() - gcPause,
            LoadGeneratorGen2 = GC.CollectionCount(2) - gen2,
            Stalls = _stalls?.Take(),
        };
    }

    /// <summary>Waits for the node to be quiet (<see cref="NodeSampler.SettleAsync"/>), at most <paramref name="longest"/>.</summary>
    public Task<bool> SettleAsync(NodeTarget node, TimeSpan longest, CancellationToken cancellationToken) =>
        new NodeSampler(_sampling, node.Address).SettleAsync(longest, cancellationToken);

    public Task<IdleResult> IdleAsync(NodeTarget node, int streams, CancellationToken cancellationToken) =>
        IdleLoad.RunAsync(node.WebSocket(blackhole: false), streams, new NodeSampler(_sampling, node.Address), cancellationToken);

    public void Dispose()
    {
        _http.Dispose();
        _sampling.Dispose();
        _stalls?.Dispose();
    }

    private static BenchRun Run(string scenario, string transport, bool blackhole, int streams, EventCorpus events, double rate, LoadOutcome outcome, NodeUsage? node) =>
        new(scenario, transport, blackhole ? "blackhole" : "node", streams, events.Count, outcome.Acknowledged, outcome.Bytes, outcome.Elapsed, rate,
            outcome.Latency, node, outcome.Errors);

    private static SocketsHttpHandler Handler() => new()
    {
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        MaxConnectionsPerServer = int.MaxValue,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };
}
