using System.Text;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.Analytics;

/// <summary>Building DuckDB statements from file paths, and reading their one-number results.</summary>
internal static class DuckDbSql
{
    /// <summary>A string literal; paths are the only text spliced into SQL here.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A list literal of strings, <c>['a', 'b']</c>.</summary>
    public static string List(IEnumerable<string> values)
    {
        var sql = new StringBuilder("[");
        foreach (var value in values)
        {
            if (sql.Length > 1)
                sql.Append(", ");
            sql.Append(Literal(value));
        }
        return sql.Append(']').ToString();
    }

    /// <summary>Runs a statement whose result is one BIGINT, such as the row count <c>COPY</c> reports.</summary>
    public static long ExecuteInt64(DuckDbConnection connection, string sql)
    {
        using var statement = connection.Prepare(sql);
        using var result = statement.Execute();
        using var chunk = result.FetchChunk();
        if (chunk is null)
            throw result.HasError ? result.Failure() : new DuckDbException("The statement returned no rows.");
        if (NativeMethods.DataChunk.Size(chunk) == 0)
            throw new DuckDbException("The statement returned no rows.");
        return new DuckDbColumn(chunk, 0).GetInt64(0);
    }
}
