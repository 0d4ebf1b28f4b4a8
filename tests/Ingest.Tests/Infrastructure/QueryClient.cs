using System.Text.Json;

namespace Ingest.Tests.Infrastructure;

/// <summary>Reads what a node stored, through its own query endpoint.</summary>
internal static class QueryClient
{
    public static async Task<JsonElement[]> QueryAsync(this HttpClient http, string sql)
    {
        using var response = await http.PostAsync("/v1/query", new StringContent(sql));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"query failed ({(int)response.StatusCode}): {body}");
        return JsonSerializer.Deserialize<JsonElement[]>(body)!;
    }

    public static async Task<long> ScalarAsync(this HttpClient http, string sql)
    {
        var rows = await http.QueryAsync(sql);
        var row = Assert.Single(rows);
        return row.EnumerateObject().First().Value.GetInt64();
    }

    public static async Task<List<string>> PayloadsAsync(this HttpClient http)
    {
        var rows = await http.QueryAsync("select payload::varchar as p from events order by stream_id, seq");
        return rows.Select(row => row.GetProperty("p").GetString()!).ToList();
    }
}
