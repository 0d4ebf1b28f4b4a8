using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Ingest.Cli.Bench;

/// <summary>
/// The figures of a <c>bench node</c> run: a table to read, the ratios and targets, a few lines of
/// context, then one JSON line, last, for scripts.
/// </summary>
internal sealed class NodeBenchReport(
    NodeBenchSettings settings,
    EventCorpus corpus,
    NodeTarget node,
    int? nodePid,
    long? fileLimit,
    IReadOnlyList<BenchRun> runs,
    IdleResult? idle,
    (MachineProbe? Before, MachineProbe? After) probes,
    IReadOnlyList<string> problems,
    IReadOnlyList<string> notes)
{
    /// <summary>The targets the issue sets, on a 2-core machine with the load generator on it.</summary>
    public const double PostTarget = 500_000;
    public const double PostOfAppenderTarget = 0.60;
    public const double WebSocketTarget = 300_000;
    public const double HalfRateP99TargetMs = 100;
    public const long IdleRssTarget = 1L << 30;
    public const long OverloadRssTarget = 2L << 30;

    private const double Mib = 1024.0 * 1024;

    /// <summary>Every event acknowledged, every run clean, the node alive throughout.</summary>
    public bool Ok => problems.Count == 0 && runs.All(r => r.Ok) && idle is null or { Ok: true };

    private BenchRun? Find(string scenario, string target) => runs.FirstOrDefault(r => r.Scenario == scenario && r.Target == target);

    private static double? Ratio(BenchRun? run, BenchRun? baseline) =>
        run is { Ok: true } && baseline is { Ok: true } ? run.EventsPerSecond / baseline.EventsPerSecond : null;

    public void Write(TextWriter output)
    {
        output.WriteLine();
        output.WriteLine(
            $"{"scenario",-10}{"transport",-10}{"target",-11}{"streams",8}{"events",12}{"seconds",9}{"events/s",12}{"MiB/s",8}" +
            $"{"p50 ms",9}{"p99 ms",9}{"max ms",9}{"node CPU",10}{"node RSS MiB",14}");
        foreach (var run in runs)
            output.WriteLine(Row(run));
        if (idle is not null)
        {
            output.WriteLine(Invariant(
                $"{"idle",-10}{"ws",-10}{"node",-11}{idle.Streams,8}{0,12}{idle.OpenTime.TotalSeconds,9:F2}{"-",12}{"-",8}{"-",9}{"-",9}{"-",9}") +
                Invariant($"{Percent(idle.Node),10}{MiB(idle.Node?.PeakRssBytes),14}"));
        }
        output.WriteLine();
        foreach (var line in Ratios().Concat(Targets()))
            output.WriteLine(line);
        output.WriteLine();
        output.WriteLine($"latency: from sending an event until a count covering it came back. A POST's events share their request's, from its first byte to its answer " +
            $"(percentiles weighted per event), so with {settings.PostEvents:N0} events per POST it is mostly the upload; post@half sends {settings.LatencyPostEvents:N0} per POST on named streams (--latency-post-events).");
        foreach (var line in LatencyBySecond())
            output.WriteLine(line);
        output.WriteLine("node CPU: its CPU time over the run's wall time (100% = one core); node RSS: the most resident memory sampled every 100 ms (VmHWM in the JSON)");
        var loads = runs.Where(r => r.Target != "in-process").ToList();
        if (loads.Count > 0)
        {
            output.WriteLine("load generator GC: " + string.Join(", ", loads.Select(r => Invariant(
                $"{Label(r)} {r.LoadGeneratorGcPause.TotalMilliseconds:F0} ms paused, {r.LoadGeneratorGen2} full"))) +
                " (this process's pauses during each run: acknowledgements that arrive then are read late)");
            var watched = loads.Where(r => r.Stalls is not null).ToList();
            if (watched.Count > 0)
            {
                output.WriteLine("machine stalls: " + string.Join(", ", watched.Select(r => Invariant(
                    $"{Label(r)} {r.Stalls!.Stalls} ({r.Stalls.TotalMs:F0} ms, longest {r.Stalls.MaxMs:F1} ms)"))) +
                    Invariant($" (a thread per core that sleeps 1 ms woke over {StallWatch.StallMilliseconds:F0} ms late; ") +
                    (watched.All(r => r.Stalls!.RealTime)
                        ? "it runs under SCHED_FIFO, so a stall is the host or the kernel holding the core, not the load)"
                        : "without real-time priority here, so the load's own waits for a core count too)"));
            }
        }
        if (idle is not null)
        {
            output.WriteLine(Invariant(
                $"idle: {idle.Opened:N0} of {idle.Streams:N0} WebSockets open in {idle.OpenTime.TotalSeconds:F1} s; node RSS {MiB(idle.RssBeforeBytes)} MiB before, ") +
                Invariant($"{MiB(idle.RssHeldBytes)} MiB held ({KiB(idle.RssPerStreamBytes)} KiB per stream); {idle.ClosedCleanly:N0} closed normally after hanging up"));
        }
        output.WriteLine(Invariant(
            $"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, ulimit -n {fileLimit?.ToString(CultureInfo.InvariantCulture) ?? "?"}; load generator on the same machine"));
        if (probes.Before is { } before && probes.After is { } after)
            output.WriteLine($"machine probe: before the runs {before}; after them {after}");
        output.WriteLine($"node: {node.Address}{(nodePid is { } pid ? $" (throwaway, pid {pid}, DuckDB only)" : " (given by --url; against a balancer the node figures are whichever node answered /v1/node)")}");
        output.WriteLine(Invariant(
            $"events: {corpus.Count:N0} per run, {corpus.Bytes / Mib:F1} MiB of ndjson (~{corpus.Bytes / corpus.Count} B each with its newline), shape {Shape}; ") +
            Invariant($"POST {settings.PostStreams} streams, WebSocket {settings.WebSocketStreams} streams; rate {(settings.Rate == 0 ? "as fast as possible" : $"{settings.Rate:N0} events/s")}"));
        output.WriteLine($"event:  {corpus.Sample}");
        foreach (var note in notes)
            output.WriteLine($"note: {note}");
        foreach (var problem in problems.Concat(runs.Where(r => !r.Ok).SelectMany(r => Describe(r))).Concat(idle?.Errors ?? []))
            output.WriteLine($"ERROR: {problem}");
        output.WriteLine(Ok ? "ok: every event sent was acknowledged" : "FAILED: see the errors above");
        output.WriteLine(JsonSerializer.Serialize(Summary()));
    }

    private string Shape => settings.Shape.ToString().ToLowerInvariant();

    private static IEnumerable<string> Describe(BenchRun run)
    {
        var name = $"{run.Scenario} {run.Transport} {run.Target}";
        if (run.Acknowledged != run.Events)
            yield return $"{name}: {run.Acknowledged:N0} of {run.Events:N0} events acknowledged";
        foreach (var error in run.Errors)
            yield return $"{name}: {error}";
    }

    private IEnumerable<string> Ratios()
    {
        var appender = Find("appender", "in-process");
        foreach (var transport in (string[])["post", "ws"])
        {
            var run = Find(transport, "node");
            if (Ratio(run, appender) is { } ofAppender)
                yield return Invariant($"{transport + " node / raw appender:",-26}{ofAppender * 100,6:F1}%");
            if (Ratio(run, Find(transport, "blackhole")) is { } ofBlackhole)
                yield return Invariant($"{transport + " node / blackhole:",-26}{ofBlackhole * 100,6:F1}%");
        }
    }

    private IEnumerable<string> Targets()
    {
        var post = Find("post", "node");
        var ws = Find("ws", "node");
        if (post is { Ok: true })
        {
            yield return Target($"POST {Events(post)} events/s >= {PostTarget:N0}", post.EventsPerSecond >= PostTarget);
            if (Ratio(post, Find("appender", "in-process")) is { } ratio)
                yield return Target($"POST {ratio * 100:F1}% of the raw appender >= {PostOfAppenderTarget * 100:F0}%", ratio >= PostOfAppenderTarget);
        }
        if (ws is { Ok: true })
            yield return Target($"WebSocket {Events(ws)} events/s over {ws.Streams} streams >= {WebSocketTarget:N0}", ws.EventsPerSecond >= WebSocketTarget);
        foreach (var half in runs.Where(r => r.Scenario.EndsWith("@half", StringComparison.Ordinal) && r.Latency is not null))
            yield return Target($"{half.Transport} at half the maximum rate: p99 {half.Latency!.P99Ms:F1} ms <= {HalfRateP99TargetMs:F0} ms", half.Latency.P99Ms <= HalfRateP99TargetMs);
        if (idle?.RssHeldBytes is { } held)
            yield return Target($"{idle.Opened:N0} idle WebSockets held in {MiB(held)} MiB < {IdleRssTarget / Mib:F0} MiB", held < IdleRssTarget);
        var loaded = runs.Where(r => r.Target == "node" && r.Rate == 0 && r.Node is not null).ToList();
        if (loaded.Count > 0)
        {
            var peak = loaded.Max(r => r.Node!.PeakRssBytes);
            yield return Target($"at full speed (backpressure): node RSS peaked at {MiB(peak)} MiB < {OverloadRssTarget / Mib:F0} MiB, nothing dropped", peak < OverloadRssTarget && loaded.All(r => r.Ok));
        }
    }

    /// <summary>
    /// For each half-rate run, how its p99 varied over the seconds of sending: whether a miss of the
    /// target came from a few bad seconds or from all of them (each second in the JSON).
    /// </summary>
    private IEnumerable<string> LatencyBySecond()
    {
        foreach (var half in runs.Where(r => r.Scenario.EndsWith("@half", StringComparison.Ordinal) && r.LatencyBySecond.Count > 1))
        {
            var seconds = half.LatencyBySecond;
            var p99s = seconds.Select(s => s.Latency.P99Ms).Order().ToList();
            var worst = seconds.MaxBy(s => s.Latency.P99Ms)!;
            yield return Invariant(
                $"{half.Scenario} p99 by second of sending: median {p99s[p99s.Count / 2]:F1} ms, best {p99s[0]:F1}, worst {worst.Latency.P99Ms:F1} (second {worst.Second + 1} of {seconds.Count}); ") +
                Invariant($"{p99s.Count(p => p > HalfRateP99TargetMs)} of {seconds.Count} seconds over {HalfRateP99TargetMs:F0} ms");
        }
    }

    private static string Target(string what, bool met) => Invariant($"target: {what}: {(met ? "met" : "NOT met")}");

    private static string Events(BenchRun run) => run.EventsPerSecond.ToString("N0", CultureInfo.InvariantCulture);

    private static string Row(BenchRun run) => Invariant(
        $"{run.Scenario,-10}{run.Transport,-10}{run.Target,-11}{run.Streams,8}{run.Events,12:N0}{run.Elapsed.TotalSeconds,9:F2}{run.EventsPerSecond,12:N0}{run.MibPerSecond,8:F1}") +
        Invariant($"{Ms(run.Latency?.P50Ms),9}{Ms(run.Latency?.P99Ms),9}{Ms(run.Latency?.MaxMs),9}{Percent(run.Node),10}{MiB(run.Node?.PeakRssBytes),14}");

    private static string Ms(double? ms) => ms is { } value ? value.ToString(value < 10 ? "F2" : "F1", CultureInfo.InvariantCulture) : "-";

    private static string KiB(long? bytes) => bytes is { } value ? (value / 1024.0).ToString("F1", CultureInfo.InvariantCulture) : "-";

    private static string Percent(NodeUsage? usage) => usage is null ? "-" : usage.CpuPercent.ToString("F0", CultureInfo.InvariantCulture) + "%";

    private static string MiB(long? bytes) => bytes is { } value ? (value / Mib).ToString("F0", CultureInfo.InvariantCulture) : "-";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>A load run as the per-run lines name it: its scenario, and whether it went to the blackhole.</summary>
    private static string Label(BenchRun run) => run.Target == "blackhole" ? $"{run.Scenario} (blackhole)" : run.Scenario;

    private static object? Probe(MachineProbe? probe) => probe is null ? null : new
    {
        workSeconds = Math.Round(probe.WorkSeconds, 3),
        lostPercent = Math.Round(probe.LostPercent, 2),
        fsyncP50Ms = Math.Round(probe.FsyncP50Ms, 3),
        fsyncP99Ms = Math.Round(probe.FsyncP99Ms, 3),
        copyGibPerSecond = Math.Round(probe.CopyGibPerSecond, 2),
    };

    private object Summary() => new
    {
        bench = "node",
        ok = Ok,
        url = node.Address.ToString(),
        throwawayNode = nodePid is not null,
        nodePid,
        machine = new
        {
            cores = Environment.ProcessorCount,
            os = RuntimeInformation.OSDescription,
            dotnet = Environment.Version.ToString(),
            openFilesLimit = fileLimit,
            probeBefore = Probe(probes.Before),
            probeAfter = Probe(probes.After),
        },
        settings = new
        {
            transport = settings.Transports.ToString().ToLowerInvariant(),
            postStreams = settings.PostStreams,
            webSocketStreams = settings.WebSocketStreams,
            events = settings.Events,
            eventSize = settings.EventSize,
            shape = Shape,
            postEvents = settings.PostEvents,
            latencyPostEvents = settings.LatencyPostEvents,
            rate = settings.Rate,
            idle = settings.Idle,
            baselines = settings.Baselines,
            latencyAtHalf = settings.LatencyAtHalf,
            smoke = settings.Smoke,
        },
        payloadBytes = corpus.Bytes,
        runs = runs.Select(r => new
        {
            scenario = r.Scenario,
            transport = r.Transport,
            target = r.Target,
            streams = r.Streams,
            events = r.Events,
            acknowledged = r.Acknowledged,
            bytes = r.Bytes,
            seconds = Round(r.Elapsed.TotalSeconds),
            rate = r.Rate,
            eventsPerSecond = Math.Round(r.EventsPerSecond),
            mibPerSecond = Round(r.MibPerSecond),
            latencyMs = r.Latency is { } l ? new { p50 = Round(l.P50Ms), p99 = Round(l.P99Ms), max = Round(l.MaxMs) } : null,
            latencyBySecond = r.LatencyBySecond.Select(s => new
            {
                second = s.Second,
                events = s.Events,
                p50Ms = Round(s.Latency.P50Ms),
                p99Ms = Round(s.Latency.P99Ms),
                maxMs = Round(s.Latency.MaxMs),
            }),
            node = r.Node is { } n
                ? new { cpuSeconds = Round(n.CpuSeconds), cpuPercent = Round(n.CpuPercent), peakRssBytes = n.PeakRssBytes, highWaterRssBytes = n.HighWaterRssBytes, samples = n.Samples }
                : null,
            loadGenerator = new { gcPauseMs = Round(r.LoadGeneratorGcPause.TotalMilliseconds), gen2Collections = r.LoadGeneratorGen2 },
            stalls = r.Stalls is { } st ? new { count = st.Stalls, totalMs = Round(st.TotalMs), maxMs = Round(st.MaxMs), realTime = st.RealTime } : null,
            ok = r.Ok,
            errors = r.Errors,
        }),
        idle = idle is null ? null : new
        {
            streams = idle.Streams,
            opened = idle.Opened,
            closedCleanly = idle.ClosedCleanly,
            openSeconds = Round(idle.OpenTime.TotalSeconds),
            rssBeforeBytes = idle.RssBeforeBytes,
            rssHeldBytes = idle.RssHeldBytes,
            rssPerStreamBytes = idle.RssPerStreamBytes,
            peakRssBytes = idle.Node?.PeakRssBytes,
            ok = idle.Ok,
            errors = idle.Errors,
        },
        ratios = new
        {
            postOfAppender = RoundOrNull(Ratio(Find("post", "node"), Find("appender", "in-process"))),
            postOfBlackhole = RoundOrNull(Ratio(Find("post", "node"), Find("post", "blackhole"))),
            wsOfAppender = RoundOrNull(Ratio(Find("ws", "node"), Find("appender", "in-process"))),
            wsOfBlackhole = RoundOrNull(Ratio(Find("ws", "node"), Find("ws", "blackhole"))),
        },
        problems,
        notes,
    };

    private static double Round(double value) => double.IsFinite(value) ? Math.Round(value, 3) : 0;

    private static double? RoundOrNull(double? value) => value is { } v ? Round(v) : null;
}
