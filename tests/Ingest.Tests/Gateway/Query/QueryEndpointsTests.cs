using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Gateway.Query;

public sealed partial class QueryEndpointsTests : IAsyncLifetime
{
    private const int EventCount = 3000;
    private TestNode _node = null!;

    public async Task InitializeAsync()
    {
        _node = await TestNode.StartAsync();
        using var response = await _node.Http.PostAsync("/", new ByteArrayContent(Ndjson.Body(Ndjson.Events(EventCount))));
        Assert.Equal(EventCount.ToString(System.Globalization.CultureInfo.InvariantCulture), await response.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Rows_come_back_as_JSON_objects_with_JSON_payload_fields_usable()
    {
        var rows = await _node.Http.QueryAsync(
            "select payload->>'level' as level, count(*) as n from events group by level order by level");

        Assert.Equal(["DEBUG", "ERROR", "INFO", "WARN"], rows.Select(r => r.GetProperty("level").GetString()));
        Assert.All(rows, r => Assert.Equal(EventCount / 4, r.GetProperty("n").GetInt64()));
    }

    [Fact]
    public async Task Accept_text_csv_gives_CSV_with_a_header_row()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/query")
        {
            Content = new StringContent("select seq, payload->>'msg' as msg from events order by seq limit 2"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));

        using var response = await _node.Http.SendAsync(request);

        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("seq,msg\r\n1,event 1\r\n2,event 2\r\n", (await response.Content.ReadAsStringAsync()).ReplaceLineEndings("\r\n"));
    }

    [Fact]
    public async Task GET_with_sql_in_the_query_string_works_too()
    {
        using var response = await _node.Http.GetAsync("/v1/query?sql=" + Uri.EscapeDataString("select count(*) as n from events"));

        Assert.Equal($$"""[{"n":{{EventCount}}}]""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("insert into events values ('x', 1, now(), '{}')", "INSERT")]
    [InlineData("delete from events", "DELETE")]
    [InlineData("drop table streams", "DROP")]
    [InlineData("create table t(x int)", "CREATE")]
    public async Task Statements_that_would_write_are_refused_with_a_clear_error_and_change_nothing(string sql, string kind)
    {
        using var response = await _node.Http.PostAsync("/v1/query", new StringContent(sql));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
        Assert.Contains(kind, error);
        Assert.Contains("read-only", error);
        Assert.Equal(EventCount, await _node.Http.ScalarAsync("select count(*) from events"));
        Assert.Equal(1, await _node.Http.ScalarAsync("select count(*) from streams"));
    }

    [Fact]
    public async Task A_syntax_error_is_a_400_with_DuckDBs_message()
    {
        using var response = await _node.Http.PostAsync("/v1/query", new StringContent("selec 1"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("syntax error", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Every_SQL_example_in_the_README_runs()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "README.md"));
        var examples = SqlBlock().Matches(readme).Select(m => m.Groups[1].Value).ToList();

        Assert.True(examples.Count >= 3, "the README should show at least three queries");
        foreach (var sql in examples)
        {
            var rows = await _node.Http.QueryAsync(sql);
            Assert.NotEmpty(rows);
        }
    }

    [GeneratedRegex("```sql\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex SqlBlock();
}
