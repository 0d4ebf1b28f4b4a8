using System.Diagnostics;
using System.Net;

namespace Ingest.Cli.Bench;

/// <summary>
/// <c>bench node</c>: drives a node over POST and WebSocket with pre-generated events, and in the
/// same run measures what bounds it: the same load against the node's blackhole (network and
/// HTTP), the silo's appender alone (storage) and the framer alone (parsing).
/// </summary>
internal static class NodeBench
{
    /// <summary>
    /// Events sent, untimed, before the runs, so the node is in the state it runs in for hours:
    /// the JIT recompiles hot methods with profile data only after they have run a while (tiered
    /// compilation), and DuckDB and the GC take their memory from the OS once. A node that had
    /// taken 200,000 events ran 20-35% slower than one that had taken a few million.
    /// </summary>
    private const int WarmUpEvents = 1_000_000;

    /// <summary>
    /// Events sent paced, after the warm-up at full speed. A paced load runs code the full-speed one
    /// does not (the load generator's pacing, small socket reads, grains flushing on their timers),
    /// and the half-rate runs used to compile it as they ran: the node's JIT was still compiling ten
    /// seconds into a paced run.
    /// </summary>
    private const int PacedWarmUpEvents = 400_000;

    /// <summary>The longest each probe of the machine waits for the node to be quiet.</summary>
    private static readonly TimeSpan ProbeSettle = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(NodeBenchSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        var scratch = Path.Combine(Path.GetTempPath(), $"ingest-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        ThrowawayNode? throwaway = null;
        try
        {
            var limits = FileLimit.Read();
            var sockets = Math.Max(settings.WebSocket ? settings.WebSocketStreams : 0, settings.Idle) + settings.PostStreams + 64;
            if (limits is { } soft && soft < sockets)
            {
                output.WriteLine($"This process may open {soft} files (ulimit -n) and needs about {sockets}: raise it first, e.g. `ulimit -n {sockets + 1000}`.");
                return 1;
            }

            output.WriteLine($"Generating {settings.Events:N0} {settings.Shape.ToString().ToLowerInvariant()} events of ~{settings.EventSize} bytes...");
            var corpus = EventCorpus.Generate(settings.Events, settings.EventSize, settings.Shape, DateTimeOffset.UtcNow);
            EventCorpus WarmUpCorpus(int events) =>
                EventCorpus.Generate(Math.Min(events, settings.Events), settings.EventSize, settings.Shape, DateTimeOffset.UtcNow.AddDays(-1)).BuildFrames();
            var warmUp = WarmUpCorpus(WarmUpEvents);
            var paced = settings.Smoke ? null : WarmUpCorpus(PacedWarmUpEvents);
            if (settings.WebSocket)
                corpus.BuildFrames();

            Uri address;
            if (settings.Url is { } url)
            {
                address = new Uri(url);
            }
            else
            {
                output.WriteLine("Starting a throwaway node (DuckDB only)...");
                throwaway = await ThrowawayNode.StartAsync([], cancellationToken);
                address = throwaway.Address;
            }
            var node = new NodeTarget(address);
            var runs = new List<BenchRun>();
            IdleResult? idle = null;
            var problems = new List<string>();
            var notes = new List<string>();

            using var client = new BenchClient(settings);

            // The machine, before anything of the bench's loads it and again after, to read a run beside.
            async Task<MachineProbe?> ProbeAsync(string when)
            {
                if (settings.Smoke)
                    return null;
                output.WriteLine($"Probing the machine {when} (fixed work, memory, the clock, fsync)...");
                // A node just started is still compiling its code, and so is this process, which has
                // just made the events (or the runs' latencies) and their garbage.
                GC.Collect();
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                if (!await client.SettleAsync(node, ProbeSettle, cancellationToken))
                    notes.Add($"the node was still busy after {ProbeSettle.TotalSeconds:F0} s when the machine was probed {when}");
                return MachineProbe.Run(scratch);
            }

            var probeBefore = await ProbeAsync("before the runs");

            // The optimised code is compiled in the background, a little after the calls that ask for it.
            var warmUpPause = TimeSpan.FromSeconds(settings.Smoke ? 0 : 1);
            if (settings.Baselines)
            {
                output.WriteLine("Baseline: parsing alone (the gateway's framer, one thread)...");
                runs.Add(ParseBaseline.Run(corpus, settings.PostStreams, settings.PostEvents, warmUpPause));
                output.WriteLine("Baseline: the raw DuckDB appender (one thread, no network)...");
                runs.Add(AppenderBaseline.Run(corpus, settings.PostStreams, settings.PostEvents, scratch, warmUpPause));
            }

            var blackhole = settings.Baselines && await client.HasBlackholeAsync(node, cancellationToken);
            if (settings.Baselines && !blackhole)
                notes.Add($"{node.Address} has no {NodeTarget.BlackholePath} (Gateway:Blackhole off?): the blackhole baseline was skipped.");
            // Idle streams first, on a fresh node; a throwaway node then starts afresh for the load
            // runs, so neither measures the memory the other left behind.
            if (settings.Idle > 0)
            {
                output.WriteLine($"idle: holding {settings.Idle:N0} WebSockets open...");
                idle = await client.IdleAsync(node, settings.Idle, cancellationToken);
                if (throwaway is not null)
                {
                    output.WriteLine("Restarting the node...");
                    await throwaway.RestartAsync(cancellationToken);
                }
                else
                {
                    notes.Add("the load runs' node RSS includes what the idle streams left behind (a node given by --url is not restarted)");
                }
            }
            output.WriteLine("Warming up...");
            foreach (var run in await client.WarmUpAsync(node, warmUp, paced, blackhole, cancellationToken))
            {
                if (!run.Ok)
                    problems.Add($"warm-up {run.Scenario} {run.Target}: {string.Join("; ", run.Errors)}");
            }
            await Task.Delay(warmUpPause, cancellationToken);

            foreach (var transport in (string[])["post", "ws"])
            {
                if ((transport == "post" && !settings.Post) || (transport == "ws" && !settings.WebSocket))
                    continue;
                if (blackhole)
                {
                    output.WriteLine($"{transport}: the blackhole...");
                    runs.Add(await client.RunAsync(transport, transport, node, blackhole: true, corpus, settings.Rate, cancellationToken));
                }
                output.WriteLine($"{transport}: the node{(settings.Rate > 0 ? $" at {settings.Rate:N0} events/s" : "")}...");
                var full = await client.RunAsync(transport, transport, node, blackhole: false, corpus, settings.Rate, cancellationToken);
                runs.Add(full);
                if (settings.LatencyAtHalf && settings.Rate == 0 && full.Ok)
                {
                    var half = Math.Max(1, Math.Round(full.EventsPerSecond / 2));
                    output.WriteLine($"{transport}: the node at half that rate, {half:N0} events/s...");
                    runs.Add(await client.RunAsync($"{transport}@half", transport, node, blackhole: false, corpus, half, cancellationToken));
                }
            }

            if (throwaway is { IsRunning: false })
                problems.Add($"the node exited during the run; the end of its log:\n{throwaway.Tail()}");
            var probeAfter = await ProbeAsync("after the runs");
            var report = new NodeBenchReport(settings, corpus, node, throwaway?.ProcessId, limits, runs, idle, (probeBefore, probeAfter), problems, notes);
            report.Write(output);
            return report.Ok ? 0 : 1;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // What a user can act on says so in its message; anything else is a bug, and its stack says where.
            output.WriteLine(exception is HttpRequestException or InvalidOperationException or TimeoutException or IOException
                ? $"bench node failed: {exception.Message}"
                : $"bench node failed: {exception}");
            if (throwaway is { IsRunning: false })
                output.WriteLine($"the end of the node's log:\n{throwaway.Tail()}");
            return 1;
        }
        finally
        {
            if (throwaway is not null)
                await throwaway.DisposeAsync();
            Directory.Delete(scratch, recursive: true);
        }
    }
}
