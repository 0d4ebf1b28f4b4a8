using Ingest.Silo.Storage.Postgres;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ingest.Silo.Storage.Analytics;

/// <summary>
/// Every <see cref="AnalyticsOptions.PublishInterval"/>, tries to become the cluster's analytics
/// maintainer; the one node that is compacts segments, publishes <c>catalog.duckdb</c> and
/// collects unused files. Every node runs it, so another takes over within an interval of the
/// maintainer's connection closing. Failures are logged and retried; they never stop it.
/// </summary>
/// <remarks>
/// Merges run off the loop, one at a time, and are committed at the first round after they
/// finish: a large merge takes long, and new data must still be published every interval.
/// Only the lease that planned a merge commits it; losing the lease discards it.
/// </remarks>
internal sealed partial class AnalyticsMaintenanceService(
    PostgresDatabase database,
    AnalyticsOptions options,
    SegmentCompactor compactor,
    CatalogPublisher publisher,
    FileCollector collector,
    TimeProvider time,
    ILogger<AnalyticsMaintenanceService> logger) : BackgroundService
{
    private RunningMerge? _merge;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var lease = new MaintainerLease(database.Options.ConnectionString, logger);
        using var timer = new PeriodicTimer(options.PublishInterval, time);
        try
        {
            do
            {
                await RunRoundAsync(lease, stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await DiscardMergeAsync().ConfigureAwait(false);
        }
    }

    private async Task RunRoundAsync(MaintainerLease lease, CancellationToken cancellationToken)
    {
        NpgsqlConnection? connection;
        try
        {
            connection = await lease.AcquireAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogLeaseFailed(exception);
            await DropAsync(lease).ConfigureAwait(false);
            return;
        }
        if (connection is null)
            return;

        // Each step on its own: a compaction that keeps failing (an unreadable segment, say)
        // must not hold back the publication of new data.
        _ = await StepAsync(lease, "compaction", () => CompactAsync(connection, cancellationToken), cancellationToken).ConfigureAwait(false)
            && await StepAsync(lease, "publication", () => publisher.RunOnceAsync(connection, cancellationToken), cancellationToken).ConfigureAwait(false)
            && await StepAsync(lease, "file collection", () => collector.RunOnceAsync(connection, _merge?.Plan.Output.Path, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Commits the merge that finished, if any, then starts the next one.</summary>
    private async Task CompactAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (_merge is { } merge)
        {
            if (!merge.Task.IsCompleted)
                return;
            _merge = null;
            merge.Dispose();
            // A failed merge deleted its file; its exception is this step's.
            var bytes = await merge.Task.ConfigureAwait(false);
            await compactor.CommitAsync(connection, merge.Plan, bytes, cancellationToken).ConfigureAwait(false);
        }

        var plan = await compactor.PlanAsync(connection, cancellationToken).ConfigureAwait(false);
        if (plan is not null)
            _merge = RunningMerge.Start(compactor, plan, cancellationToken);
    }

    /// <returns>False when the connection broke, which ends the round: the lock may be someone else's now.</returns>
    private async Task<bool> StepAsync(MaintainerLease lease, string step, Func<Task> run, CancellationToken cancellationToken)
    {
        try
        {
            await run().ConfigureAwait(false);
            return true;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogStepFailed(step, exception);
            if (lease.IsHealthy)
                return true;
            await DropAsync(lease).ConfigureAwait(false);
            return false;
        }
    }

    private async Task DropAsync(MaintainerLease lease)
    {
        await lease.DropAsync().ConfigureAwait(false);
        // Another node may be compacting the same segments by now.
        await DiscardMergeAsync().ConfigureAwait(false);
    }

    private async Task DiscardMergeAsync()
    {
        if (_merge is not { } merge)
            return;
        _merge = null;
        await merge.CancelAsync().ConfigureAwait(false);
        try
        {
            await merge.Task.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Cancelled or failed: the merge deleted its file itself.
        }
        finally
        {
            merge.Dispose();
        }
        SegmentCompactor.Discard(merge.Plan);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not reach PostgreSQL to take the analytics maintainer's lock; trying again next interval")]
    private partial void LogLeaseFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Analytics {Step} failed; it runs again next interval")]
    private partial void LogStepFailed(string step, Exception exception);
}
