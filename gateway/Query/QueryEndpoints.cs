using System.Text;
using System.Text.Json;
using Ingest.Silo.Storage.DuckDb;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Ingest.Gateway.Query;

/// <summary>
/// <c>POST /v1/query</c>: SQL in the body, rows back as JSON (or CSV, or NDJSON, by
/// <c>Accept</c>). Read-only: statements that would write are refused.
/// </summary>
internal static class QueryEndpoints
{
    private const int MaxSqlBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapQuery(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/query", async (HttpContext context, DuckDbQueryService queries) =>
        {
            var sql = await ReadSqlAsync(context.Request);
            await RunAsync(context, queries, sql);
        });
        endpoints.MapGet("/v1/query", (HttpContext context, DuckDbQueryService queries, string? sql) =>
            RunAsync(context, queries, sql));
        return endpoints;
    }

    private static async Task RunAsync(HttpContext context, DuckDbQueryService queries, string? sql)
    {
        var response = context.Response;
        if (string.IsNullOrWhiteSpace(sql))
        {
            await ErrorAsync(response, StatusCodes.Status400BadRequest, "send one SQL statement in the body (or ?sql= on GET)");
            return;
        }
        var (format, contentType) = Negotiate(context.Request);
        response.ContentType = contentType;
        try
        {
            await queries.ExecuteAsync(sql, format, response.BodyWriter, context.RequestAborted);
        }
        catch (QueryRejectedException exception) when (!response.HasStarted)
        {
            await ErrorAsync(response, StatusCodes.Status400BadRequest, exception.Message);
        }
    }

    private static (QueryResultFormat Format, string ContentType) Negotiate(HttpRequest request)
    {
        foreach (var accept in request.GetTypedHeaders().Accept)
        {
            if (accept.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase))
                return (QueryResultFormat.Csv, "text/csv; charset=utf-8");
            if (accept.MediaType.Equals("application/x-ndjson", StringComparison.OrdinalIgnoreCase))
                return (QueryResultFormat.Ndjson, "application/x-ndjson");
        }
        return (QueryResultFormat.Json, "application/json");
    }

    /// <summary>The body is the SQL, or a JSON object <c>{"sql": "..."}</c> when sent as JSON.</summary>
    private static async Task<string?> ReadSqlAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var buffer = new char[MaxSqlBytes + 1];
        var length = await reader.ReadBlockAsync(buffer);
        if (length > MaxSqlBytes)
            return null;
        var text = new string(buffer, 0, length);
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            && type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                using var json = JsonDocument.Parse(text);
                return json.RootElement.TryGetProperty("sql", out var sql) ? sql.GetString() : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
        return text;
    }

    private static async Task ErrorAsync(HttpResponse response, int status, string message)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await response.WriteAsJsonAsync(new QueryError(message));
    }

    private sealed record QueryError(string Error);
}
