using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ingest.Silo.Storage.Postgres;

/// <summary>Runs <see cref="PostgresRetention"/> at start and then every <see cref="PostgresOptions.RetentionInterval"/>.</summary>
public sealed partial class PostgresRetentionService(
    PostgresRetention retention, TimeProvider time, ILogger<PostgresRetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(retention.Options.RetentionInterval, time);
        try
        {
            do
            {
                try
                {
                    await retention.RunOnceAsync(time.GetUtcNow(), stoppingToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // A failed round (PostgreSQL away, a lock timeout) is retried next interval; the host lives on.
                    LogFailed(exception);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention failed this round; it runs again at the next interval")]
    private partial void LogFailed(Exception exception);
}
