using System.Net;
using System.Net.Http.Headers;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Gateway.Ingest;

/// <summary>Named streams resumed on new connections: every event stored once, checked by sequence number.</summary>
public sealed class ResumeTests
{
    [Fact]
    public async Task A_websocket_client_that_loses_its_connection_resumes_from_the_position_it_is_told_with_nothing_lost_or_doubled()
    {
        await using var node = await TestNode.StartAsync();
        var named = new Dictionary<string, string> { ["X-Stream-Id"] = "ws-resume" };

        await using (var first = await WebSocketClient.ConnectAsync(node.WebSocketAddress, named))
        {
            await first.WaitForCountAsync(0);
            Assert.Equal(0, first.Counts[0]);
            for (var i = 1; i <= 600; i++)
                await first.SendAsync(Ndjson.Event(i));
            await first.WaitForCountAsync(200);
            first.Abort();
        }

        await using (var second = await WebSocketClient.ConnectAsync(node.WebSocketAddress, named))
        {
            await second.WaitForCountAsync(0);
            var position = second.Counts[0];
            Assert.InRange(position, 200, 600);
            Assert.Equal(position.ToString(), Assert.Single(second.ResponseHeaders!["X-Stream-Position"]));
            for (var i = (int)position + 1; i <= 1000; i++)
                await second.SendAsync(Ndjson.Event(i));
            await second.HangUpAsync();
            Assert.Equal(1000, second.Counts[^1]);
        }

        // A client unsure what arrived may send with sequence numbers: what the stream holds is dropped.
        var withSeq = new Dictionary<string, string>(named) { ["X-Stream-Seq"] = "901" };
        await using (var third = await WebSocketClient.ConnectAsync(node.WebSocketAddress, withSeq))
        {
            for (var i = 901; i <= 1100; i++)
                await third.SendAsync(Ndjson.Event(i));
            await third.HangUpAsync();
            Assert.Equal(1100, third.Counts[^1]);
            Assert.Contains("duplicate 100", third.CloseDescription);
        }

        await AssertStoredOnceInOrderAsync(node.Http, "ws-resume", 1100);
        Assert.Equal(100, await node.Http.ScalarAsync("select duplicates from streams where id = 'ws-resume'"));
    }

    [Fact]
    public async Task A_retried_post_is_idempotent_and_an_overlapping_one_stores_only_its_new_events()
    {
        await using var node = await TestNode.StartAsync();

        using (var response = await PostAsync(node.Http, "post-resume", firstSeq: 1, from: 1, count: 1000))
            Assert.Equal("1000", await response.Content.ReadAsStringAsync());

        using (var retry = await PostAsync(node.Http, "post-resume", firstSeq: 1, from: 1, count: 1000))
        {
            Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
            var answer = (await retry.Content.ReadAsStringAsync()).Split('\n');
            Assert.Equal("1000", answer[0]);
            Assert.StartsWith("duplicate 1000", answer[1]);
            Assert.Equal("1000", Assert.Single(retry.Headers.GetValues("X-Events-Duplicate")));
        }

        using (var overlapping = await PostAsync(node.Http, "post-resume", firstSeq: 501, from: 501, count: 1000))
            Assert.Equal("1500", (await overlapping.Content.ReadAsStringAsync()).Split('\n')[0]);

        await AssertStoredOnceInOrderAsync(node.Http, "post-resume", 1500);
    }

    [Fact]
    public async Task A_post_that_would_leave_a_gap_is_refused_with_the_position_to_send_from()
    {
        await using var node = await TestNode.StartAsync();
        using (await PostAsync(node.Http, "gap", firstSeq: 1, from: 1, count: 10))
        {
        }

        using var response = await PostAsync(node.Http, "gap", firstSeq: 20, from: 20, count: 5);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var answer = (await response.Content.ReadAsStringAsync()).Split('\n');
        Assert.Equal("10", answer[0]);
        Assert.Contains("send from 11", answer[1]);
        await AssertStoredOnceInOrderAsync(node.Http, "gap", 10);
    }

    [Fact]
    public async Task A_client_asks_where_its_stream_stands()
    {
        await using var node = await TestNode.StartAsync();
        using (await PostAsync(node.Http, "asked", firstSeq: 1, from: 1, count: 42))
        {
        }

        using var known = await node.Http.GetAsync("/v1/streams/asked");
        using var unknown = await node.Http.GetAsync("/v1/streams/never-opened");

        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        Assert.Contains("\"position\":42", await known.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Theory]
    [InlineData("X-Stream-Sinks", "kafka", "duckdb and postgres")]
    [InlineData("X-Stream-Sinks", "postgres", "writes to duckdb only")]
    [InlineData("X-Stream-Id", "has space", "X-Stream-Id must be")]
    [InlineData("X-Stream-Seq", "0", "X-Stream-Seq must be")]
    public async Task Bad_stream_settings_are_refused_with_the_reason(string header, string value, string reason)
    {
        await using var node = await TestNode.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("{\"n\":1}\n") };
        request.Headers.TryAddWithoutValidation(header, value);

        using var response = await node.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await node.Http.ScalarAsync("select count(*) from events"));
    }

    [Fact]
    public async Task A_websocket_that_would_leave_a_gap_is_refused_before_the_upgrade()
    {
        await using var node = await TestNode.StartAsync();
        var headers = new Dictionary<string, string> { ["X-Stream-Id"] = "ws-gap", ["X-Stream-Seq"] = "5" };

        var refused = await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => WebSocketClient.ConnectAsync(node.WebSocketAddress, headers));

        Assert.Contains("409", refused.Message);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string stream, long firstSeq, int from, int count)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/")
        {
            Content = new ByteArrayContent(Ndjson.Body(Enumerable.Range(from, count).Select(Ndjson.Event))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        request.Headers.Add("X-Stream-Id", stream);
        request.Headers.Add("X-Stream-Seq", firstSeq.ToString());
        return http.SendAsync(request);
    }

    /// <summary>Every event 1..<paramref name="last"/> exactly once, under the sequence number the client gave it.</summary>
    internal static async Task AssertStoredOnceInOrderAsync(HttpClient http, string stream, int last)
    {
        var rows = await http.QueryAsync($"select seq, (payload->>'nonce')::bigint as nonce from events where stream_id = '{stream}' order by seq");
        Assert.Equal(Enumerable.Range(1, last).Select(i => (long)i), rows.Select(row => row.GetProperty("seq").GetInt64()));
        Assert.All(rows, row => Assert.Equal(row.GetProperty("seq").GetInt64(), row.GetProperty("nonce").GetInt64()));
    }
}
