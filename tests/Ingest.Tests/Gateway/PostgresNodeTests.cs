using System.Net;
using System.Net.Http.Headers;
using Ingest.Tests.Gateway.Ingest;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Gateway;

/// <summary>A node writing to DuckDB and a real PostgreSQL at once.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresNodeTests(PostgresFixture postgres)
{
    [Fact]
    public async Task With_both_sinks_each_holds_every_event_and_a_stream_can_narrow_them_by_header()
    {
        var connection = await postgres.CreateDatabaseAsync();
        await using var node = await TestNode.StartAsync(BothSinks(connection));

        using (var both = await PostAsync(node.Http, "both", count: 1000))
            Assert.Equal("1000", await both.Content.ReadAsStringAsync());
        using (var duckOnly = await PostAsync(node.Http, "duck-only", count: 10, sinks: "duckdb"))
            Assert.Equal(HttpStatusCode.OK, duckOnly.StatusCode);
        using (var postgresOnly = await PostAsync(node.Http, "postgres-only", count: 20, sinks: "postgres"))
            Assert.Equal(HttpStatusCode.OK, postgresOnly.StatusCode);

        await ResumeTests.AssertStoredOnceInOrderAsync(node.Http, "both", 1000);
        await PostgresReader.AssertStoredOnceInOrderAsync(connection, "both", 1000);
        await ResumeTests.AssertStoredOnceInOrderAsync(node.Http, "duck-only", 10);
        await PostgresReader.AssertStoredOnceInOrderAsync(connection, "duck-only", 0);
        await ResumeTests.AssertStoredOnceInOrderAsync(node.Http, "postgres-only", 0);
        await PostgresReader.AssertStoredOnceInOrderAsync(connection, "postgres-only", 20);
        Assert.Equal(0, await node.Http.ScalarAsync("select count(*) from streams where id = 'postgres-only'"));
        Assert.Equal(0, await PostgresReader.ScalarAsync(connection, "select count(*) from streams where id = 'duck-only'"));
        Assert.Equal(1000, await PostgresReader.ScalarAsync(connection, "select events from streams where id = 'both' and sinks = 'duckdb,postgres'"));
    }

    [Fact]
    public async Task A_stream_resumes_from_what_both_sinks_hold_after_a_restart_of_the_node()
    {
        var connection = await postgres.CreateDatabaseAsync();
        using var directory = new TempDirectory();
        var database = directory.File("ingest.duckdb");
        var client = new ResumingClient("restarted-both", 3000);

        await using (var node = await TestNode.StartAsync(BothSinks(connection), database))
        {
            Assert.True(await client.SendAsync(node.WebSocketAddress));
        }
        var more = new ResumingClient("restarted-both", 5000);
        await using (var node = await TestNode.StartAsync(BothSinks(connection), database))
        {
            Assert.True(await more.SendAsync(node.WebSocketAddress));
            await ResumeTests.AssertStoredOnceInOrderAsync(node.Http, "restarted-both", 5000);
        }
        await PostgresReader.AssertStoredOnceInOrderAsync(connection, "restarted-both", 5000);
    }

    [Fact]
    public async Task A_node_that_cannot_reach_PostgreSQL_says_so_at_start()
    {
        var settings = BothSinks("Host=127.0.0.1;Port=1;Username=postgres;Password=hunter2;Database=ingest;Timeout=3");

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => TestNode.StartAsync(settings));

        Assert.Contains("unreachable", failure.Message);
        Assert.DoesNotContain("hunter2", failure.Message);
    }

    [Fact]
    public async Task A_wrong_password_is_named_at_start()
    {
        var settings = BothSinks(postgres.Server.ConnectionStringFor("postgres", password: "wrong-password"));

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => TestNode.StartAsync(settings));

        Assert.Contains("password authentication failed", failure.Message);
        Assert.DoesNotContain("wrong-password", failure.Message);
    }

    internal static Dictionary<string, string?> BothSinks(string connection) => new()
    {
        ["Silo:Sinks"] = "duckdb,postgres",
        ["Postgres:ConnectionString"] = connection,
    };

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string stream, int count, string? sinks = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/")
        {
            Content = new ByteArrayContent(Ndjson.Body(Enumerable.Range(1, count).Select(Ndjson.Event))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        request.Headers.Add("X-Stream-Id", stream);
        if (sinks is not null)
            request.Headers.Add("X-Stream-Sinks", sinks);
        return http.SendAsync(request);
    }
}
