using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Ingest.Cli.Cluster;
using Ingest.Tests.Gateway.Ingest;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Gateway;

/// <summary>PostgreSQL stopping and restarting under a node that writes to it. Each test stops a server of its own.</summary>
public sealed class PostgresOutageNodeTests
{
    private const int PostEvents = 3000;

    [Fact]
    public async Task While_PostgreSQL_is_down_ingestion_waits_and_POSTs_get_503_then_everything_is_stored_exactly_once()
    {
        await using var server = await PostgresServer.StartNewAsync();
        var connection = await server.CreateDatabaseAsync();
        var settings = PostgresNodeTests.BothSinks(connection);
        settings["Postgres:MaxQueuedBytes"] = "1048576";
        settings["Postgres:RetryMaxDelay"] = "00:00:00.500";
        await using var node = await TestNode.StartAsync(settings);
        var client = new ResumingClient("through-outage", 20_000);

        // Long POST streams, open before PostgreSQL goes away: one event sent so far.
        var bodies = Enumerable.Range(1, 12).Select(_ => new Pipe()).ToArray();
        var posts = bodies.Select((body, i) => PostAsync(node.Http, $"post-{i}", new PushContent(body.Reader))).ToList();
        for (var i = 0; i < bodies.Length; i++)
        {
            await bodies[i].Writer.WriteAsync(Encoding.UTF8.GetBytes(Ndjson.Event(1) + "\n"));
            while (!(await node.Http.GetAsync($"/v1/streams/post-{i}")).IsSuccessStatusCode)
                await Task.Delay(10);
        }

        var sending = client.SendAsync(node.WebSocketAddress);
        while (client.Acknowledged < 1000)
            await Task.Delay(10);
        await server.StopAsync();

        // Nothing is acknowledged while PostgreSQL is away: the stream waits for it.
        await Task.Delay(1000);
        var stalled = client.Acknowledged;
        await Task.Delay(1000);
        Assert.Equal(stalled, client.Acknowledged);
        Assert.False(sending.IsCompleted);

        // The POST streams send the rest: they fill PostgreSQL's queue, and are told to come back later.
        foreach (var body in bodies)
        {
            await body.Writer.WriteAsync(Ndjson.Body(Enumerable.Range(2, PostEvents - 1).Select(Ndjson.Event)));
            await body.Writer.CompleteAsync();
        }
        using (var refused = await await Task.WhenAny(posts))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            var answer = (await refused.Content.ReadAsStringAsync()).Split('\n');
            Assert.Equal("1", answer[0]); // the first event was stored before PostgreSQL went away
            Assert.StartsWith("storage is behind", answer[1]);
        }

        await server.StartAsync();
        Assert.True(await sending);
        var answers = await Task.WhenAll(posts);
        // Clients told 503 send the same events again; what the streams hold already is dropped.
        for (var i = 0; i < answers.Length; i++)
        {
            if (answers[i].StatusCode == HttpStatusCode.OK)
                continue;
            // Storage may still be catching up with the other streams: told 503 again, the client waits and sends again.
            var retry = await PostAsync(node.Http, $"post-{i}", new ByteArrayContent(Ndjson.Body(Enumerable.Range(1, PostEvents).Select(Ndjson.Event))));
            for (var attempt = 1; retry.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 30; attempt++)
            {
                retry.Dispose();
                await Task.Delay(500);
                retry = await PostAsync(node.Http, $"post-{i}", new ByteArrayContent(Ndjson.Body(Enumerable.Range(1, PostEvents).Select(Ndjson.Event))));
            }
            using var answered = retry;
            Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
            Assert.Equal(PostEvents.ToString(), (await retry.Content.ReadAsStringAsync()).Split('\n')[0]);
        }
        Assert.Contains(answers, answer => answer.StatusCode == HttpStatusCode.ServiceUnavailable);

        await ResumeTests.AssertStoredOnceInOrderAsync(node.Http, "through-outage", 20_000);
        await PostgresReader.AssertStoredOnceInOrderAsync(connection, "through-outage", 20_000);
        for (var i = 0; i < answers.Length; i++)
        {
            await ResumeTests.AssertStoredOnceInOrderAsync(node.Http, $"post-{i}", PostEvents);
            await PostgresReader.AssertStoredOnceInOrderAsync(connection, $"post-{i}", PostEvents);
            answers[i].Dispose();
        }
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string stream, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = content };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        request.Headers.Add("X-Stream-Id", stream);
        request.Headers.Add("X-Stream-Seq", "1");
        return http.SendAsync(request);
    }
}
