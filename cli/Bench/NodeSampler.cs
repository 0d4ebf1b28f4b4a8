using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ingest.Cli.Bench;

/// <summary>
/// Polls the node's <c>GET /v1/node</c> about every 100 ms while a run goes on, for its CPU time
/// and resident memory. Against a balancer it sees whichever node answers; a node without the
/// endpoint leaves the figures out.
/// </summary>
internal sealed class NodeSampler
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>CPU, in percent of a core, under which <see cref="SettleAsync"/> counts the node as quiet.</summary>
    public const double QuietPercent = 10;

    private static readonly TimeSpan WarmUpPause = TimeSpan.FromMilliseconds(10);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly HttpClient _http;
    private readonly Uri _address;

    public NodeSampler(HttpClient http, Uri node)
    {
        _http = http;
        _address = new Uri(node, "/v1/node");
    }

    /// <summary>The node's figures now, or null if it has no <c>/v1/node</c> or does not answer.</summary>
    public async Task<NodeSample?> SampleAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(_address, cancellationToken);
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<NodeSample>(Json, cancellationToken) : null;
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// Samples <paramref name="count"/> times, a little apart, so that the code a sample runs in this
    /// process and in the node is compiled before the runs. Sampled for the first time in the runs,
    /// both processes recompiled it (tiered compilation, after 30 calls) in the middle of a
    /// half-rate run: 165 ms of CPU in half a second, while every acknowledgement waited.
    /// </summary>
    public async Task WarmUpAsync(int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            await SampleAsync(cancellationToken);
            await Task.Delay(WarmUpPause, cancellationToken);
        }
    }

    /// <summary>
    /// Waits until the node is quiet: its CPU under <see cref="QuietPercent"/> of a core over two
    /// samples in a row, or <paramref name="longest"/> has passed.
    /// </summary>
    /// <returns>Whether it got quiet; false too if it gave no figures.</returns>
    public async Task<bool> SettleAsync(TimeSpan longest, CancellationToken cancellationToken)
    {
        var wall = Stopwatch.StartNew();
        if (await SampleAsync(cancellationToken) is not { } previous)
            return false;
        var previousAt = wall.Elapsed;
        var quiet = 0;
        while (wall.Elapsed < longest)
        {
            await Task.Delay(Interval, cancellationToken);
            if (await SampleAsync(cancellationToken) is not { } sample)
                return false;
            var at = wall.Elapsed;
            quiet = (sample.CpuSeconds - previous.CpuSeconds) / (at - previousAt).TotalSeconds * 100 < QuietPercent ? quiet + 1 : 0;
            if (quiet == 2)
                return true;
            (previous, previousAt) = (sample, at);
        }
        return false;
    }

    /// <summary>Samples until the returned run is stopped.</summary>
    public async Task<Run> StartAsync(CancellationToken cancellationToken)
    {
        // The wall time brackets both samples' readings, so CPU per wall time is never overstated.
        var wall = Stopwatch.StartNew();
        var first = await SampleAsync(cancellationToken);
        return new Run(this, first, wall, cancellationToken);
    }

    internal sealed class Run
    {
        private readonly NodeSampler _sampler;
        private readonly NodeSample? _first;
        private readonly Stopwatch _wall;
        private readonly CancellationTokenSource _stop;
        private readonly Task _loop;
        private long _peakRss;
        private int _samples;

        public Run(NodeSampler sampler, NodeSample? first, Stopwatch wall, CancellationToken cancellationToken)
        {
            _sampler = sampler;
            _wall = wall;
            _first = first;
            _peakRss = first?.RssBytes ?? 0;
            _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _loop = first is null ? Task.CompletedTask : LoopAsync(_stop.Token);
        }

        /// <summary>Stops sampling and sums up; null when the node gave no figures.</summary>
        public async Task<NodeUsage?> StopAsync(CancellationToken cancellationToken)
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
            if (_first is null || await _sampler.SampleAsync(cancellationToken) is not { } last)
                return null;
            var wall = _wall.Elapsed;
            var cpu = last.CpuSeconds - _first.CpuSeconds;
            return new NodeUsage(cpu, cpu / wall.TotalSeconds * 100, Math.Max(_peakRss, last.RssBytes), last.PeakRssBytes, last.RssBytes, _samples + 2);
        }

        private async Task LoopAsync(CancellationToken cancellationToken)
        {
            try
            {
                while (true)
                {
                    await Task.Delay(Interval, cancellationToken);
                    if (await _sampler.SampleAsync(cancellationToken) is { } sample)
                    {
                        _peakRss = Math.Max(_peakRss, sample.RssBytes);
                        _samples++;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
