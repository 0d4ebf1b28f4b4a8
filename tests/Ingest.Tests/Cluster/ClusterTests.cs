using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Ingest.Cli.Cluster;
using Ingest.Tests.Gateway.Ingest;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Cluster;

/// <summary>
/// Three nodes on loopback behind a real nginx, sharing a real PostgreSQL and a shared analytics
/// directory, started the way <c>ingest cluster up</c> starts them. Every case is checked by
/// reading each event back by stream and sequence number, from the analytics storage and from
/// PostgreSQL.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTests
{
    private const int Events = 6000;

    [Fact]
    public async Task A_stream_continues_on_another_node_with_its_counts_headers_sequence_and_duplicates()
    {
        using var directory = new TempDirectory();
        await using var cluster = await StartAsync(directory);
        var (first, second, third) = (cluster.Nodes[0].Address, cluster.Nodes[1].Address, cluster.Nodes[2].Address);
        var headers = new Dictionary<string, string> { ["X-Stream-Id"] = "moving", ["X-Service"] = "billing" };

        await using (var client = await WebSocketClient.ConnectAsync(WebSocketUri(first), headers))
        {
            await client.WaitForCountAsync(0);
            for (var i = 1; i <= 500; i++)
                await client.SendAsync(Ndjson.Event(i));
            await client.SendAsync("not json");
            await client.HangUpAsync();
        }
        await using (var client = await WebSocketClient.ConnectAsync(WebSocketUri(second), new Dictionary<string, string> { ["X-Stream-Id"] = "moving" }))
        {
            await client.WaitForCountAsync(0);
            // The other node's position: 500 events and the rejected one.
            Assert.Equal(501, client.Counts[0]);
            for (var i = 502; i <= 1000; i++)
                await client.SendAsync(Ndjson.Event(i));
            await client.HangUpAsync();
            Assert.Equal(1000, client.Counts[^1]);
        }
        // A retry of everything through the third node: all of it is a duplicate.
        using var http = new HttpClient { BaseAddress = third };
        var retry = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new ByteArrayContent(Ndjson.Body(Enumerable.Range(1, 1000).Select(Ndjson.Event))) };
        retry.Headers.Add("X-Stream-Id", "moving");
        retry.Headers.Add("X-Stream-Seq", "1");
        using var answer = await http.SendAsync(retry);
        var body = await answer.Content.ReadAsStringAsync();
        Assert.StartsWith("1000", body);
        Assert.Contains("duplicate 1000", body);

        using var stream = await http.GetAsync("/v1/streams/moving");
        var row = System.Text.Json.JsonDocument.Parse(await stream.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(999, row.GetProperty("stored").GetInt64());
        Assert.Equal(1, row.GetProperty("rejected").GetInt64());
        Assert.Equal(1000, row.GetProperty("duplicates").GetInt64());
        // The headers that opened the stream, on the first node, are still its metadata.
        Assert.Equal(1, await PostgresReader.ScalarAsync(cluster.ConnectionString, "select count(*) from streams where id = 'moving' and headers::text ilike '%billing%'"));
        Assert.Equal(1, await PostgresReader.ScalarAsync(cluster.ConnectionString, "select count(*) from analytics_streams where id = 'moving' and headers::text ilike '%billing%' and events = 999"));
        var seqs = await http.QueryAsync("select seq, (payload->>'nonce')::bigint as nonce from events where stream_id = 'moving' order by seq");
        Assert.Equal(Enumerable.Range(1, 1000).Where(i => i != 501).Select(i => (long)i), seqs.Select(r => r.GetProperty("seq").GetInt64()));
        Assert.All(seqs, r => Assert.Equal(r.GetProperty("seq").GetInt64(), r.GetProperty("nonce").GetInt64()));
        Assert.Equal(999, await PostgresReader.ScalarAsync(cluster.ConnectionString, "select count(distinct seq) from events where stream_id = 'moving'"));
        Assert.Equal(999, await PostgresReader.ScalarAsync(cluster.ConnectionString, "select count(*) from events where stream_id = 'moving'"));
    }

    [Fact]
    public async Task After_SIGKILL_of_a_node_under_load_every_event_is_stored_exactly_once_cluster_wide()
    {
        using var directory = new TempDirectory();
        await using var cluster = await StartAsync(directory);
        var clients = Enumerable.Range(1, 6).Select(i => new ResumingClient($"killed-{i}", Events)).ToArray();
        var balancer = WebSocketUri(cluster.BalancerAddress);

        var sending = clients.Select(client => SendUntilDoneAsync(client, balancer)).ToArray();
        while (clients.Any(client => client.Acknowledged < 1000))
            await Task.Delay(10);
        await cluster.Nodes[1].KillAsync();
        await Task.WhenAll(sending).WaitAsync(TimeSpan.FromMinutes(3));

        await AssertStoredOnceAsync(cluster, clients);
    }

    [Fact]
    public async Task A_rolling_restart_of_every_node_loses_nothing_acknowledged()
    {
        using var directory = new TempDirectory();
        await using var cluster = await StartAsync(directory);
        var clients = Enumerable.Range(1, 6).Select(i => new ResumingClient($"rolled-{i}", Events * 2)).ToArray();
        var balancer = WebSocketUri(cluster.BalancerAddress);

        var sending = clients.Select(client => SendUntilDoneAsync(client, balancer)).ToArray();
        foreach (var node in cluster.Nodes)
        {
            while (clients.Any(client => client.Acknowledged < 500) && sending.Any(s => !s.IsCompleted))
                await Task.Delay(10);
            await node.StopAsync();
            await node.StartAsync();
        }
        await Task.WhenAll(sending).WaitAsync(TimeSpan.FromMinutes(3));

        await AssertStoredOnceAsync(cluster, clients);
    }

    [Fact]
    public async Task Any_node_and_an_outside_DuckDB_client_query_every_nodes_events_while_ingestion_runs()
    {
        using var directory = new TempDirectory();
        await using var cluster = await StartAsync(directory);
        // Each node takes streams of its own, directly.
        for (var n = 0; n < cluster.Nodes.Count; n++)
        {
            using var http = new HttpClient { BaseAddress = cluster.Nodes[n].Address };
            for (var s = 0; s < 3; s++)
            {
                var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new ByteArrayContent(Ndjson.Body(Enumerable.Range(1, 200).Select(Ndjson.Event))) };
                request.Headers.Add("X-Stream-Id", $"node{n}-stream{s}");
                using var answer = await http.SendAsync(request);
                Assert.StartsWith("200", await answer.Content.ReadAsStringAsync());
            }
        }
        var acknowledged = Stopwatch.StartNew();
        // Ingestion goes on while everyone reads.
        using var more = new CancellationTokenSource();
        var background = new ResumingClient("background", 1_000_000);
        var running = background.SendAsync(WebSocketUri(cluster.BalancerAddress), more.Token);
        // The reads below start only once the background stream has had events acknowledged.
        var started = Stopwatch.StartNew();
        while (background.Acknowledged == 0 && !running.IsCompleted && started.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(10);
        Assert.True(background.Acknowledged > 0, $"the background stream had nothing acknowledged after {started.Elapsed}");

        foreach (var node in cluster.Nodes)
        {
            using var http = new HttpClient { BaseAddress = node.Address };
            var perStream = await http.QueryAsync("select stream_id, count(*) as n, count(distinct seq) as d from events where stream_id like 'node%' group by 1 order by 1");
            Assert.Equal(9, perStream.Length);
            Assert.All(perStream, r => Assert.Equal(200, r.GetProperty("n").GetInt64()));
            Assert.All(perStream, r => Assert.Equal(200, r.GetProperty("d").GetInt64()));
        }

        // An outside client opens the published catalog: the same events, within 10 seconds.
        var catalog = Path.Combine(cluster.SharedDirectory, "catalog.duckdb");
        long seen = 0;
        while (acknowledged.Elapsed < TimeSpan.FromSeconds(10) && seen < 1800)
        {
            if (File.Exists(catalog))
            {
                var rows = await IndependentReader.QueryAsync(catalog, "select count(*) as n from events where stream_id like 'node%'");
                seen = long.Parse(rows[0].GetProperty("n").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            }
            if (seen < 1800)
                await Task.Delay(250);
        }
        Assert.Equal(1800, seen);
        var streams = await IndependentReader.QueryAsync(catalog, "select count(*) as n from streams where id like 'node%' and events = 200");
        Assert.Equal("9", streams[0].GetProperty("n").GetString());
        Assert.False(running.IsCompleted, "ingestion was still running after the reads");
        await more.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
    }

    private static async Task<LocalCluster> StartAsync(TempDirectory directory) =>
        await LocalCluster.StartAsync(new LocalClusterOptions
        {
            DataDirectory = directory.Path,
            Nodes = 3,
            BalancerPort = 0,
            NodeSettings = ["--Analytics:PublishInterval=00:00:01", "--Analytics:SegmentInterval=00:00:00.200"],
        });

    private static Uri WebSocketUri(Uri http) => new UriBuilder(http) { Scheme = "ws" }.Uri;

    /// <summary>Reconnects through the balancer after every failure until the client has sent and seen acknowledged every event.</summary>
    private static async Task SendUntilDoneAsync(ResumingClient client, Uri balancer)
    {
        while (!await client.SendAsync(balancer))
            await Task.Delay(50);
    }

    private static async Task AssertStoredOnceAsync(LocalCluster cluster, ResumingClient[] clients)
    {
        using var http = new HttpClient { BaseAddress = cluster.Nodes[0].IsRunning ? cluster.Nodes[0].Address : cluster.Nodes[2].Address };
        foreach (var client in clients)
        {
            await ResumeTests.AssertStoredOnceInOrderAsync(http, client.Stream, client.Total);
            await PostgresReader.AssertStoredOnceInOrderAsync(cluster.ConnectionString, client.Stream, client.Total);
        }
    }
}
