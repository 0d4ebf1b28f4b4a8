using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Tests.Fakes;
using Ingest.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.Tests.Gateway.Ingest;

public sealed class PostIngestTests
{
    [Fact]
    public async Task A_100000_line_body_answers_100000_and_every_payload_reads_back_unchanged()
    {
        await using var node = await TestNode.StartAsync();
        var events = Ndjson.Events(100_000);

        using var response = await node.Http.PostAsync("/", new ByteArrayContent(Ndjson.Body(events)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("100000", await response.Content.ReadAsStringAsync());
        Assert.Equal(100_000, await node.Http.ScalarAsync("select count(*) from events"));
        Assert.Equal(events, await node.Http.PayloadsAsync());
        Assert.Equal(100_000, await node.Http.ScalarAsync("select max(seq) from events"));
    }

    [Fact]
    public async Task A_gzip_body_is_decoded()
    {
        await using var node = await TestNode.StartAsync();
        var events = Ndjson.Events(1000);
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(Ndjson.Body(events));
        var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentEncoding.Add("gzip");
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");

        using var response = await node.Http.PostAsync("/", content);

        Assert.Equal("1000", await response.Content.ReadAsStringAsync());
        Assert.Equal(events, await node.Http.PayloadsAsync());
    }

    [Fact]
    public async Task Bad_events_are_described_after_the_count_and_the_events_around_them_are_stored()
    {
        await using var node = await TestNode.StartAsync(new Dictionary<string, string?> { ["Gateway:MaxEventBytes"] = "1000" });
        byte[] body =
        [
            .. "{\"n\":1}\n{\"n\": nope}\n{\"n\":3}\n"u8,
            .. Encoding.UTF8.GetBytes("{\"big\":\"" + new string('x', 2000) + "\"}\n"),
            .. "{\"n\":5}\n{\"bad\":\""u8, 0xC3, 0x28, .. "\"}\n{\"n\":7}"u8,
        ];

        using var response = await node.Http.PostAsync("/", new ByteArrayContent(body));
        var answer = (await response.Content.ReadAsStringAsync()).Split('\n');

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("4", answer[0]);
        Assert.Equal("rejected 3:", answer[1]);
        Assert.StartsWith("event 2 (line 2): invalid JSON", answer[2]);
        Assert.StartsWith("event 4 (line 4): event is over the 1000-byte size limit", answer[3]);
        Assert.StartsWith("event 6 (line 6): invalid", answer[4]);
        Assert.Equal(["{\"n\":1}", "{\"n\":3}", "{\"n\":5}", "{\"n\":7}"], await node.Http.PayloadsAsync());
        var stream = Assert.Single(await node.Http.QueryAsync("select events, rejected from streams"));
        Assert.Equal(4, stream.GetProperty("events").GetInt64());
        Assert.Equal(3, stream.GetProperty("rejected").GetInt64());
    }

    [Fact]
    public async Task An_unsupported_content_type_is_refused_with_415_and_a_reason()
    {
        await using var node = await TestNode.StartAsync();
        var content = new StringContent("<event/>", Encoding.UTF8, "application/xml");

        using var response = await node.Http.PostAsync("/", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var answer = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("0\nunsupported Content-Type 'application/xml'", answer);
        Assert.Equal(0, await node.Http.ScalarAsync("select count(*) from events"));
    }

    [Fact]
    public async Task The_stream_row_keeps_the_opening_headers_with_a_repeated_header_as_an_array()
    {
        await using var node = await TestNode.StartAsync();
        // Raw, because HttpClient folds a repeated header into one comma-separated line.
        var answer = await RawPostAsync(node,
            "X-Service: billing\r\nX-Tag: one\r\nX-Tag: two\r\nContent-Length: 8\r\nConnection: close\r\n\r\n{\"a\":1}\n");

        Assert.EndsWith("\r\n\r\n1", answer);
        var stream = Assert.Single(await node.Http.QueryAsync(
            "select id, transport, remote_addr, headers, opened_at, closed_at, events, bytes from streams"));
        Assert.Contains($"X-Stream-Id: {stream.GetProperty("id").GetString()}", answer);
        Assert.Equal("http", stream.GetProperty("transport").GetString());
        Assert.StartsWith("127.0.0.1:", stream.GetProperty("remote_addr").GetString());
        var headers = stream.GetProperty("headers");
        Assert.Equal("billing", headers.GetProperty("x-service").GetString());
        Assert.Equal(["one", "two"], headers.GetProperty("x-tag").EnumerateArray().Select(v => v.GetString()));
        Assert.NotEqual(JsonValueKind.Null, stream.GetProperty("closed_at").ValueKind);
        Assert.Equal(1, stream.GetProperty("events").GetInt64());
        Assert.Equal(7, stream.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task A_client_that_hangs_up_mid_body_loses_only_the_unfinished_event_and_others_carry_on()
    {
        await using var node = await TestNode.StartAsync();
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(node.Address.Host, node.Address.Port);
            var stream = client.GetStream();
            var head = $"POST / HTTP/1.1\r\nHost: {node.Address.Authority}\r\nContent-Length: 100000\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head + "{\"n\":1}\n{\"n\":2}\n{\"n\":"));
            await stream.FlushAsync();
            await WaitUntilAsync(async () => await node.Http.ScalarAsync("select count(*) from streams") == 1);
        }

        await WaitUntilAsync(async () => await node.Http.ScalarAsync("select count(*) from streams where closed_at is not null") == 1);
        Assert.Equal(["{\"n\":1}", "{\"n\":2}"], await node.Http.PayloadsAsync());
        using var next = await node.Http.PostAsync("/", new StringContent("{\"n\":3}"));
        Assert.Equal("1", await next.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task When_storage_fails_the_answer_counts_only_what_is_durable_and_the_node_keeps_serving()
    {
        FailingSink? sink = null;
        await using var node = await TestNode.StartAsync(
            new Dictionary<string, string?> { ["Silo:FlushMaxEvents"] = "100" },
            services: services => services.AddKeyedSingleton<IEventSink>(StorageSinks.DuckDb, (provider, _) =>
                sink = new FailingSink(provider.GetRequiredService<DuckDbEventSink>())));
        var events = Ndjson.Events(1000);
        var body = new TriggeringContent(Ndjson.Body(events), splitAt: 40_000, () => sink!.Failing = true);

        using var failed = await node.Http.PostAsync("/", body);
        var answer = await failed.Content.ReadAsStringAsync();
        sink!.Failing = false;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        var acknowledged = long.Parse(answer.Split('\n')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("No space left on device", answer);
        Assert.InRange(acknowledged, 1, 999);
        Assert.True(await node.Http.ScalarAsync("select count(*) from events") >= acknowledged);
        using var next = await node.Http.PostAsync("/", new StringContent("{\"after\":1}"));
        Assert.Equal("1", await next.Content.ReadAsStringAsync());
    }

    private static async Task<string> RawPostAsync(TestNode node, string headersAndBody)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(node.Address.Host, node.Address.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST / HTTP/1.1\r\nHost: {node.Address.Authority}\r\n{headersAndBody}"));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 15 s");
            await Task.Delay(50);
        }
    }

    /// <summary>A body sent in two parts, with something done between them.</summary>
    private sealed class TriggeringContent(byte[] body, int splitAt, Action between) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, splitAt));
            await stream.FlushAsync();
            await Task.Delay(300);
            between();
            await stream.WriteAsync(body.AsMemory(splitAt));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
