using System.Text.Json;

namespace Ingest.Tests.Infrastructure;

/// <summary>
/// DuckDB's own Node.js client (<c>@duckdb/node-api</c>, in tests/reader), opening the file
/// read-only: proof that what the node wrote is a plain DuckDB database.
/// </summary>
internal static class IndependentReader
{
    public static async Task<JsonElement[]> QueryAsync(string databasePath, string sql)
    {
        var output = await ChildProcess.RunAsync(
            "node", [Path.Combine(Repository.Root, "tests", "reader", "query.mjs"), databasePath, sql]);
        return JsonSerializer.Deserialize<JsonElement[]>(output)!;
    }
}
