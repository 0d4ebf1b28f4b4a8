using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Gateway.Bench;

/// <summary>The blackhole reads what <c>/</c> reads and answers as it does, but stores nothing.</summary>
public sealed class BlackholeEndpointsTests
{
    [Fact]
    public async Task A_POST_is_answered_with_its_count_of_events_and_nothing_is_stored()
    {
        await using var node = await TestNode.StartAsync();
        var body = Encoding.UTF8.GetBytes(string.Join("\n", Ndjson.Events(10_000)) + "\n\n  \n" + Ndjson.Event(0));

        using var response = await node.Http.PostAsync("/v1/blackhole", new ByteArrayContent(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("10001", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await node.Http.ScalarAsync("select count(*) from events"));
        Assert.Equal(0, await node.Http.ScalarAsync("select count(*) from streams"));
    }

    [Fact]
    public async Task A_gzip_POST_is_decoded_and_an_unsupported_content_type_refused_as_on_the_real_endpoint()
    {
        await using var node = await TestNode.StartAsync();
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(Ndjson.Body(Ndjson.Events(500)));
        var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentEncoding.Add("gzip");
        var xml = new StringContent("<event/>", Encoding.UTF8, "application/xml");

        using var gzipped = await node.Http.PostAsync("/v1/blackhole", content);
        using var refused = await node.Http.PostAsync("/v1/blackhole", xml);

        Assert.Equal("500", await gzipped.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
    }

    [Fact]
    public async Task A_WebSocket_gets_rising_counts_then_the_final_count_and_a_normal_close_after_hanging_up()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await WebSocketClient.ConnectAsync(new Uri(node.WebSocketAddress, "/v1/blackhole"));

        foreach (var e in Ndjson.Events(10_000))
            await client.SendAsync(e);
        await client.HangUpAsync();

        Assert.NotEmpty(client.Counts);
        Assert.Equal(10_000, client.Counts[^1]);
        Assert.True(client.Counts.Zip(client.Counts.Skip(1)).All(pair => pair.First < pair.Second), string.Join(",", client.Counts));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.Equal(0, await node.Http.ScalarAsync("select count(*) from events"));
    }

    [Fact]
    public async Task A_WebSocket_that_stays_open_hears_the_count_of_what_it_sent_so_far()
    {
        await using var node = await TestNode.StartAsync();
        await using var client = await WebSocketClient.ConnectAsync(new Uri(node.WebSocketAddress, "/v1/blackhole"));

        await client.SendAsync("{\"n\":1}");
        await client.SendAsync("{\"n\":2}");
        await client.WaitForCountAsync(2);
        await client.CloseAsync();

        Assert.Equal(2, client.Counts[^1]);
    }

    [Fact]
    public async Task With_Gateway_Blackhole_off_there_is_no_blackhole()
    {
        await using var node = await TestNode.StartAsync(new Dictionary<string, string?> { ["Gateway:Blackhole"] = "false" });

        using var response = await node.Http.PostAsync("/v1/blackhole", new ByteArrayContent(Ndjson.Body(Ndjson.Events(3))));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
