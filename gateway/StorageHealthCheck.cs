using Ingest.Silo.Storage.DuckDb;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ingest.Gateway;

/// <summary>Healthy while the analytics database answers a query.</summary>
internal sealed class StorageHealthCheck(DuckDbQueryService queries) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var pipe = new System.IO.Pipelines.Pipe();
            await queries.ExecuteAsync("select 1", QueryResultFormat.Json, pipe.Writer, cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception exception)
        {
            return HealthCheckResult.Unhealthy("DuckDB does not answer", exception);
        }
    }
}
