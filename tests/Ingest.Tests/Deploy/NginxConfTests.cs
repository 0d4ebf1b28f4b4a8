using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Deploy;

/// <summary>deploy/nginx.conf: valid, and a balancer that carries what the nodes promise through to clients.</summary>
public sealed class NginxConfTests
{
    [Fact]
    public async Task nginx_accepts_the_configuration()
    {
        using var directory = new TempDirectory();
        var config = NginxConfig.WriteCopy(directory, [4318, 4319, 4320], 4318);

        await ChildProcess.RunAsync(NginxConfig.Binary, ["-t", .. NginxConfig.Arguments(directory, config)]);
    }

    [Fact]
    public async Task A_WebSocket_stream_through_the_balancer_gets_its_counts_and_a_normal_close()
    {
        using var directory = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(directory.File("ingest.duckdb"));
        await using var balancer = await Balancer.StartAsync(node, node, node);

        await using var client = await WebSocketClient.ConnectAsync(balancer.WebSocketAddress);
        foreach (var e in Ndjson.Events(1000))
            await client.SendAsync(e);
        await client.WaitForCountAsync(1000);
        await client.HangUpAsync();

        Assert.Equal(1000, client.Counts[^1]);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.Equal(1000, await node.Http.ScalarAsync("select count(*) from events"));
    }

    [Fact]
    public async Task A_POST_body_reaches_the_node_as_it_is_sent_not_once_it_ends()
    {
        using var directory = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(directory.File("ingest.duckdb"));
        await using var balancer = await Balancer.StartAsync(node, node, node);
        var body = new Pipe();

        var posting = balancer.Http.PostAsync("/", new PushContent(body.Reader));
        await body.Writer.WriteAsync(Encoding.UTF8.GetBytes("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n"));
        await WaitForStoredAsync(node, 3);
        await body.Writer.WriteAsync(Encoding.UTF8.GetBytes("{\"n\":4}\n"));
        await body.Writer.CompleteAsync();
        using var response = await posting;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("4", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task With_a_node_killed_every_POST_is_still_answered_by_another()
    {
        using var directory = new TempDirectory();
        await using var node1 = await NodeProcess.StartAsync(directory.File("node1.duckdb"));
        await using var node2 = await NodeProcess.StartAsync(directory.File("node2.duckdb"));
        await using var node3 = await NodeProcess.StartAsync(directory.File("node3.duckdb"));
        await using var balancer = await Balancer.StartAsync(node1, node2, node3);

        await node2.KillAsync();
        for (var i = 0; i < 9; i++)
        {
            using var response = await balancer.Http.PostAsync("/", new StringContent($"{{\"post\":{i}}}\n"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("1", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(9, await node1.Http.ScalarAsync("select count(*) from events") + await node3.Http.ScalarAsync("select count(*) from events"));
    }

    [Fact]
    public async Task The_node_sees_the_clients_address_in_the_forwarded_headers()
    {
        using var directory = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(directory.File("ingest.duckdb"));
        await using var balancer = await Balancer.StartAsync(node, node, node);

        using var response = await balancer.Http.PostAsync("/", new StringContent("{}\n"));
        response.EnsureSuccessStatusCode();

        var stream = Assert.Single(await node.Http.QueryAsync(
            "select headers->>'x-real-ip' as real_ip, headers->>'x-forwarded-for' as forwarded_for from streams"));
        Assert.Equal("127.0.0.1", stream.GetProperty("real_ip").GetString());
        Assert.Equal("127.0.0.1", stream.GetProperty("forwarded_for").GetString());
    }

    private static async Task WaitForStoredAsync(NodeProcess node, long count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await node.Http.ScalarAsync("select count(*) from events") < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the node did not store {count} events while the body was still open");
            await Task.Delay(50);
        }
    }
}
