using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Ingest.Cli.Cluster;
using Ingest.Tests.Infrastructure;
using Npgsql;

namespace Ingest.Tests.Cli.Cluster;

/// <summary><c>ingest cluster up</c> as a user runs it: a process that runs until SIGTERM, then stops everything.</summary>
[Collection(ClusterCollection.Name)]
public sealed partial class ClusterCommandTests
{
    private const int SigTerm = 15;

    [Fact]
    public async Task Cluster_up_serves_until_SIGTERM_then_exits_0_with_nothing_left_listening()
    {
        using var directory = new TempDirectory();
        var port = LoopbackPort.Free();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[Path.Combine(AppContext.BaseDirectory, "ingest.dll"), "cluster", "up", "--nodes", "2", "--port", $"{port}", "--data", directory.Path])
            start.ArgumentList.Add(argument);
        var output = new StringBuilder();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string Printed() { lock (output) return output.ToString(); }

        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var balancer = new Uri($"http://127.0.0.1:{port}/");
            await WaitUntilAsync(() => Printed().Contains("Send events to", StringComparison.Ordinal), process, Printed, TimeSpan.FromSeconds(90));
            using (var response = await http.PostAsync(balancer, new ByteArrayContent(Ndjson.Body(Ndjson.Events(3)))))
                Assert.Equal("3", (await response.Content.ReadAsStringAsync()).Split('\n')[0].Trim());
            var ports = NodePorts(Printed());
            Assert.Equal(2, ports.Count);
            ports.Add(port);
            ports.Add(new NpgsqlConnectionStringBuilder(Regex.Match(Printed(), @"postgres\s+(\S+)").Groups[1].Value).Port);
            Assert.All(ports, p => Assert.True(LoopbackPort.IsListening(p), $"nothing listens on {p}"));

            Assert.Equal(0, Kill(process.Id, SigTerm));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));

            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}:\n{Printed()}");
            Assert.Contains("Stopped.", Printed(), StringComparison.Ordinal);
            Assert.All(ports, p => Assert.False(LoopbackPort.IsListening(p), $"port {p} still answers"));
            Assert.Empty(ProcessTable.Mentioning(directory.Path));
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }
    }

    private static List<int> NodePorts(string printed) =>
        [.. NodeLine().Matches(printed).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];

    private static async Task WaitUntilAsync(Func<bool> condition, Process process, Func<string> printed, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.False(process.HasExited, $"ingest exited with {(process.HasExited ? process.ExitCode : 0)}:\n{printed()}");
            Assert.True(waited.Elapsed < timeout, $"the cluster was not up within {timeout.TotalSeconds} s:\n{printed()}");
            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"node \d+\s+http://127\.0\.0\.1:(\d+)/")]
    private static partial Regex NodeLine();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
