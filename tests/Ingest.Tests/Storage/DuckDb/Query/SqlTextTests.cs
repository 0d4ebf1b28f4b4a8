using Ingest.Silo.Storage.DuckDb.Query;

namespace Ingest.Tests.Storage.DuckDb.Query;

public sealed class SqlTextTests
{
    [Theory]
    [InlineData("SELECT 1", "SELECT 1")]
    [InlineData("SELECT 1;  \n", "SELECT 1")]
    [InlineData("SELECT 1;;", "SELECT 1")]
    [InlineData("SELECT ';'", "SELECT ';'")]
    public void Body_drops_trailing_semicolons(string sql, string body) => Assert.Equal(body, SqlText.Body(sql));

    [Theory]
    [InlineData("SELECT 1; -- note", "SELECT 1")]
    [InlineData("SELECT 1; /* a */ -- b\n", "SELECT 1")]
    [InlineData("SELECT 1 -- note", null)]
    [InlineData("SELECT 'a; -- b'", "SELECT 'a")]
    public void Comments_after_the_last_semicolon_can_be_cut(string sql, string? body) =>
        Assert.Equal(body, SqlText.BodyWithoutTrailingComments(sql));

    [Theory]
    [InlineData("copy events to 'x'", "COPY")]
    [InlineData("  /* why */ -- not\n (INSERT INTO t VALUES (1))", "INSERT")]
    [InlineData("SELECT 1", null)]
    [InlineData("WITH x AS (SELECT 1) SELECT * FROM x", null)]
    [InlineData("", null)]
    public void The_leading_keyword_names_what_changes_state(string sql, string? keyword) =>
        Assert.Equal(keyword, SqlText.ChangingKeyword(sql));
}
