using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.Postgres;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ingest.Gateway;

/// <summary>
/// Healthy while the analytics database answers a query and PostgreSQL, when deployed, answers
/// too. PostgreSQL down is only degraded: streams to DuckDB alone carry on, and the others wait.
/// </summary>
internal sealed class StorageHealthCheck(DuckDbQueryService queries, PostgresDatabase? postgres = null) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var pipe = new System.IO.Pipelines.Pipe();
            await queries.ExecuteAsync("select 1", QueryResultFormat.Json, pipe.Writer, cancellationToken);
        }
        catch (Exception exception)
        {
            return HealthCheckResult.Unhealthy("DuckDB does not answer", exception);
        }
        if (postgres is null)
            return HealthCheckResult.Healthy();
        try
        {
            await using var command = postgres.DataSource.CreateCommand("select 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return HealthCheckResult.Degraded($"PostgreSQL at {postgres.Endpoint} does not answer", exception);
        }
    }
}
