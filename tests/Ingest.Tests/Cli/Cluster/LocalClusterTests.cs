using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using Ingest.Cli.Cluster;
using Ingest.Tests.Infrastructure;
using Npgsql;

namespace Ingest.Tests.Cli.Cluster;

/// <summary>The whole topology on loopback: PostgreSQL, three node processes, nginx in front.</summary>
[Collection(ClusterCollection.Name)]
public sealed class LocalClusterTests(LocalClusterFixture fixture) : IClassFixture<LocalClusterFixture>
{
    private LocalCluster Cluster => fixture.Cluster;

    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Every_node_and_the_balancer_answer_healthz()
    {
        Assert.Equal(3, Cluster.Nodes.Count);
        Assert.Equal(3, Cluster.Nodes.Select(n => n.Address).Distinct().Count());
        foreach (var node in Cluster.Nodes)
        {
            Assert.True(node.IsRunning);
            Assert.Equal(Path.Combine(Cluster.DataDirectory, "nodes", node.Index.ToString(CultureInfo.InvariantCulture)), node.Directory);
            Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync(new Uri(node.Address, "/healthz"))).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync(new Uri(Cluster.BalancerAddress, "/healthz"))).StatusCode);
        Assert.True(Directory.Exists(Cluster.SharedDirectory));
    }

    [Fact]
    public void Every_node_process_carries_the_node_environment()
    {
        foreach (var node in Cluster.Nodes)
        {
            // The variables the process started with, NUL-separated.
            var environment = File.ReadAllText($"/proc/{node.ProcessId}/environ").Split('\0');
            foreach (var (name, value) in ClusterNode.NodeEnvironment)
                Assert.Contains($"{name}={value}", environment);
        }
    }

    [Fact]
    public async Task POSTs_through_the_balancer_are_spread_over_the_nodes_and_stored_in_PostgreSQL()
    {
        var streams = new List<string>();
        for (var i = 0; i < 6; i++)
            streams.Add(await PostAsync(100));

        foreach (var stream in streams)
            Assert.Equal(100, await CountInPostgresAsync(stream));
        var nodesWithEvents = 0;
        foreach (var node in Cluster.Nodes)
            nodesWithEvents += await CountOnNodeAsync(node, streams) > 0 ? 1 : 0;
        Assert.True(nodesWithEvents > 1, "every POST went to the same node");
    }

    [Fact]
    public async Task A_WebSocket_through_the_balancer_gets_its_counts_and_a_normal_close()
    {
        var address = new Uri($"ws://{Cluster.BalancerAddress.Authority}/");
        await using var client = await WebSocketClient.ConnectAsync(address);
        foreach (var line in Ndjson.Events(50))
            await client.SendAsync(line);
        await client.WaitForCountAsync(50);
        await client.HangUpAsync();

        Assert.Equal(50, client.Counts[^1]);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public async Task With_a_node_killed_POSTs_still_succeed_and_the_node_comes_back_on_its_port()
    {
        var victim = Cluster.Nodes[1];
        var address = victim.Address;
        var pid = victim.ProcessId!.Value;

        await victim.KillAsync();
        Assert.False(victim.IsRunning);
        Assert.False(ProcessTable.IsRunning(pid));
        // Round robin reaches the dead node among these; nginx passes those POSTs on to the others.
        for (var i = 0; i < 6; i++)
            Assert.Equal(20, await CountInPostgresAsync(await PostAsync(20)));

        await victim.StartAsync();
        Assert.True(victim.IsRunning);
        Assert.Equal(address, victim.Address);
        Assert.NotEqual(pid, victim.ProcessId);
        // Once its fail_timeout (2 s) is over, nginx sends it requests again, with no reload.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var streams = new List<string>();
        for (var i = 0; i < 6; i++)
            streams.Add(await PostAsync(20));
        Assert.True(await CountOnNodeAsync(victim, streams) > 0, "the restarted node got no requests");
    }

    [Fact]
    public async Task Stopping_leaves_nothing_running_or_listening_and_the_next_start_has_the_data()
    {
        using var directory = new TempDirectory();
        var options = new LocalClusterOptions { DataDirectory = directory.Path, Nodes = 1, BalancerPort = 0 };
        var cluster = await LocalCluster.StartAsync(options);
        string stream;
        using (var http = new HttpClient())
        {
            using var response = await http.PostAsync(cluster.BalancerAddress, new ByteArrayContent(Ndjson.Body(Ndjson.Events(5))));
            Assert.Equal("5", (await response.Content.ReadAsStringAsync()).Split('\n')[0].Trim());
            stream = response.Headers.GetValues("X-Stream-Id").Single();
        }
        var postmaster = int.Parse(File.ReadLines(Path.Combine(cluster.Postgres!.DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        int[] pids = [cluster.Nodes[0].ProcessId!.Value, cluster.Balancer.ProcessId, postmaster];
        int[] ports = [cluster.Balancer.Port, cluster.Nodes[0].Port, new NpgsqlConnectionStringBuilder(cluster.ConnectionString).Port];
        Assert.All(ports, port => Assert.True(LoopbackPort.IsListening(port)));

        await cluster.StopAsync();
        await cluster.StopAsync();
        await cluster.DisposeAsync();

        Assert.All(pids, pid => Assert.False(ProcessTable.IsRunning(pid), $"process {pid} still runs"));
        Assert.Empty(ProcessTable.Mentioning(directory.Path));
        Assert.All(ports, port => Assert.False(LoopbackPort.IsListening(port), $"port {port} still answers"));
        Assert.False(cluster.Nodes[0].IsRunning);
        Assert.False(cluster.Balancer.IsRunning);

        await using var again = await LocalCluster.StartAsync(options);
        Assert.Equal(5, await PostgresReader.ScalarAsync(again.ConnectionString, $"select count(*) from events where stream_id = '{stream}'"));
    }

    [Fact]
    public async Task A_node_that_cannot_start_fails_the_start_with_its_log_and_nothing_is_left_running()
    {
        using var directory = new TempDirectory();
        var options = new LocalClusterOptions { DataDirectory = directory.Path, Nodes = 2, BalancerPort = 0, NodeSettings = ["--Silo:Sinks=nosuchsink"] };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => LocalCluster.StartAsync(options));

        Assert.Contains("exited", error.Message, StringComparison.Ordinal);
        Assert.Contains("node.log", error.Message, StringComparison.Ordinal);
        Assert.Contains("unknown sink 'nosuchsink'", error.Message, StringComparison.Ordinal);
        Assert.Empty(ProcessTable.Mentioning(directory.Path));
    }

    /// <summary>POSTs that many events through the balancer; returns the stream's id once the answer says all are stored.</summary>
    private async Task<string> PostAsync(int events)
    {
        using var response = await Http.PostAsync(Cluster.BalancerAddress, new ByteArrayContent(Ndjson.Body(Ndjson.Events(events))));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        Assert.Equal(events.ToString(CultureInfo.InvariantCulture), body.Split('\n')[0].Trim());
        return response.Headers.GetValues("X-Stream-Id").Single();
    }

    private Task<long> CountInPostgresAsync(string stream) =>
        PostgresReader.ScalarAsync(Cluster.ConnectionString, $"select count(*) from events where stream_id = '{stream}'");

    /// <summary>How many of these streams' events the node holds in its own DuckDB file.</summary>
    private async Task<long> CountOnNodeAsync(ClusterNode node, IEnumerable<string> streams)
    {
        var ids = string.Join(", ", streams.Select(s => $"'{s}'"));
        using var response = await Http.PostAsync(new Uri(node.Address, "/v1/query"), new StringContent($"select count(*) as n from events where stream_id in ({ids})"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return System.Text.Json.JsonDocument.Parse(body).RootElement[0].GetProperty("n").GetInt64();
    }
}
