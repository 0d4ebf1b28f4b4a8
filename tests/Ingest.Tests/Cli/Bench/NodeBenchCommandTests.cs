using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Cli.Bench;

/// <summary>
/// <c>ingest bench node --smoke</c> as CI runs it: a process that starts its own node, drives it and
/// its baselines, prints the table and one JSON line last, and stops the node. Speed is never asserted.
/// </summary>
public sealed class NodeBenchCommandTests
{
    private const int SmokeEvents = 20_000;
    private const int IdleStreams = 20;

    [Fact]
    public async Task The_smoke_run_acknowledges_every_event_of_every_scenario_and_ends_with_a_JSON_line()
    {
        var (exitCode, stdout, stderr) = await RunAsync("bench", "node", "--smoke", "--latency-at-half", "--idle", $"{IdleStreams}");
        var printed = $"exit code {exitCode}\n{stdout}\n{stderr}";

        Assert.True(exitCode == 0, printed);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, line => line.StartsWith("scenario", StringComparison.Ordinal));
        using var summary = JsonDocument.Parse(lines[^1]);
        var root = summary.RootElement;
        Assert.True(root.GetProperty("ok").GetBoolean(), printed);
        var runs = root.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(
            ["parse in-process", "appender in-process", "post blackhole", "post node", "post@half node", "ws blackhole", "ws node", "ws@half node"],
            runs.Select(r => $"{r.GetProperty("scenario").GetString()} {r.GetProperty("target").GetString()}"));
        Assert.All(runs, run =>
        {
            Assert.Equal(SmokeEvents, run.GetProperty("events").GetInt64());
            Assert.Equal(SmokeEvents, run.GetProperty("acknowledged").GetInt64());
            Assert.True(run.GetProperty("ok").GetBoolean());
        });
        Assert.All(runs.Where(r => r.GetProperty("target").GetString() != "in-process"), run =>
        {
            Assert.Equal(JsonValueKind.Object, run.GetProperty("latencyMs").ValueKind);
            Assert.True(run.GetProperty("node").GetProperty("peakRssBytes").GetInt64() > 0);
        });
        var idle = root.GetProperty("idle");
        Assert.Equal(IdleStreams, idle.GetProperty("opened").GetInt32());
        Assert.Equal(IdleStreams, idle.GetProperty("closedCleanly").GetInt32());
        Assert.True(idle.GetProperty("rssHeldBytes").GetInt64() > 0);
        Assert.False(ProcessTable.IsRunning(root.GetProperty("nodePid").GetInt32()), "the throwaway node still runs");
    }

    [Fact]
    public async Task Unusable_settings_are_refused_with_a_reason_before_anything_starts()
    {
        var (exitCode, _, stderr) = await RunAsync("bench", "node", "--events", "3", "--streams", "8");

        Assert.Equal(1, exitCode);
        Assert.Contains("at least one event", stderr, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ingest.dll"));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
