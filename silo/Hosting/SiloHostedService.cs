using Ingest.Silo.Grains;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.Postgres;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ingest.Silo.Hosting;

/// <summary>
/// Starts storage before the gateway listens, retires idle grains while running, and at
/// shutdown (after the gateway has stopped taking events) flushes every grain, drains the
/// sink and closes the database, so everything acknowledged is on disk.
/// </summary>
internal sealed partial class SiloHostedService(
    StreamSilo silo,
    DuckDbDatabase database,
    DuckDbEventSink sink,
    IOptions<SiloOptions> options,
    TimeProvider time,
    ILogger<SiloHostedService> logger,
    PostgresEventSink? postgresSink = null,
    PostgresDatabase? postgres = null) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _collector = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogStarted(database.Path);
        _collector = CollectIdleAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _collector;
        var activations = silo.ActivationCount;
        var flushing = silo.DeactivateAllAsync(CancellationToken.None);
        // PostgreSQL may be down, and its sink waits for it. When the host's patience runs out,
        // closing the sink fails those flushes: their events were never acknowledged.
        await Task.WhenAny(flushing, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
        if (postgresSink is not null)
            await postgresSink.DisposeAsync();
        try
        {
            await flushing;
        }
        catch (Exception exception)
        {
            // Those streams' last events were never acknowledged; resuming clients send them again.
            LogFlushFailed(exception);
        }
        await sink.DisposeAsync();
        database.Dispose();
        if (postgres is not null)
            await postgres.DisposeAsync();
        LogStopped(activations);
    }

    private async Task CollectIdleAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.Value.IdleCheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    var retired = await silo.DeactivateIdleAsync(options.Value.IdleTimeout, cancellationToken);
                    if (retired > 0)
                        LogRetired(retired, silo.ActivationCount);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogCollectFailed(exception);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo started; events go to {Path}")]
    private partial void LogStarted(string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo stopped: flushed {Activations} active streams and closed storage")]
    private partial void LogStopped(int activations);

    [LoggerMessage(Level = LogLevel.Error, Message = "Some streams could not flush at shutdown; their unacknowledged events were not stored")]
    private partial void LogFlushFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Deactivated {Retired} idle streams; {Active} remain")]
    private partial void LogRetired(int retired, int active);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deactivating idle streams failed; they stay active and are retried")]
    private partial void LogCollectFailed(Exception exception);
}
