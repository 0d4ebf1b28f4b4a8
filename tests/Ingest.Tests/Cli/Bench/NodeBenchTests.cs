using System.Text.Json;
using Ingest.Cli.Bench;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Cli.Bench;

/// <summary><c>bench node --url</c> against a running node: everything it reports acknowledged is stored, once.</summary>
public sealed class NodeBenchTests
{
    [Fact]
    public async Task Against_a_running_node_every_event_sent_to_it_is_stored_and_none_sent_to_the_blackhole()
    {
        await using var node = await TestNode.StartAsync();
        const int Events = 3000;
        var settings = new NodeBenchSettings(
            node.Address.ToString(), BenchTransports.Both, PostStreams: 3, WebSocketStreams: 5, Events, EventSize: 300, BenchShape.Nested,
            PostEvents: 700, LatencyPostEvents: 250, Rate: 0, Idle: 0, Baselines: true, LatencyAtHalf: false, Smoke: false);
        using var output = new StringWriter();

        var exitCode = await NodeBench.RunAsync(settings, output, CancellationToken.None);

        Assert.True(exitCode == 0, output.ToString());
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("{\"bench\":\"node\",\"ok\":true", lines[^1], StringComparison.Ordinal);
        // The machine is probed before and after the runs, and the figures reach the JSON.
        using (var summary = JsonDocument.Parse(lines[^1]))
        {
            var machine = summary.RootElement.GetProperty("machine");
            Assert.True(machine.GetProperty("probeBefore").GetProperty("workSeconds").GetDouble() > 0);
            Assert.True(machine.GetProperty("probeAfter").GetProperty("fsyncP99Ms").GetDouble() > 0);
            // Every load run says how long the load generator itself was paused by its GC.
            foreach (var run in summary.RootElement.GetProperty("runs").EnumerateArray().Where(r => r.GetProperty("target").GetString() != "in-process"))
            {
                Assert.True(run.GetProperty("loadGenerator").GetProperty("gcPauseMs").ValueKind == JsonValueKind.Number, run.ToString());
                // ... and how the machine stalled meanwhile.
                var stalls = run.GetProperty("stalls");
                Assert.True(stalls.GetProperty("count").GetInt32() >= 0, run.ToString());
                Assert.True(stalls.GetProperty("totalMs").GetDouble() >= stalls.GetProperty("maxMs").GetDouble(), run.ToString());
                // ... and, second by second of sending, the latency of every event it acknowledged.
                var seconds = run.GetProperty("latencyBySecond").EnumerateArray().ToList();
                Assert.Equal(run.GetProperty("acknowledged").GetInt64(), seconds.Sum(second => second.GetProperty("events").GetInt64()));
                Assert.True(seconds.Select(second => second.GetProperty("second").GetInt32()).Order().SequenceEqual(seconds.Select(second => second.GetProperty("second").GetInt32())), run.ToString());
                Assert.All(seconds, second => Assert.True(second.GetProperty("maxMs").GetDouble() <= run.GetProperty("latencyMs").GetProperty("max").GetDouble(), run.ToString()));
            }
            Assert.Contains(lines, line => line.StartsWith("machine stalls: ", StringComparison.Ordinal));
        }
        // The warm-up sends the same number of events (up to its limits) over each protocol too,
        // twice: at full speed, then paced.
        Assert.Equal(6 * Events, await node.Http.ScalarAsync("select count(*) from events"));
        Assert.Equal(0, await node.Http.ScalarAsync("select count(*) from events where payload->'span'->'attrs'->'http'->>'status' is null"));
    }
}
