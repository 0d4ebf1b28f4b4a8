using System.IO.Pipelines;
using Ingest.Silo.Storage.DuckDb.Native;
using Ingest.Silo.Storage.DuckDb.Query;
using Microsoft.Extensions.Logging;

namespace Ingest.Silo.Storage.DuckDb;

/// <summary>
/// Runs one user-supplied read-only query and streams its rows, a chunk at a time, so a large
/// result never sits in memory whole. Queries run on a small pool of connections of their
/// own, in read-only transactions, alongside the sink's writes.
/// </summary>
public sealed partial class DuckDbQueryService : IDisposable
{
    private readonly ConnectionPool<DuckDbConnection> _pool;
    private readonly ILogger _logger;

    private readonly Func<DuckDbConnection, CancellationToken, Task>? _prepare;

    public DuckDbQueryService(DuckDbDatabase database, ILogger<DuckDbQueryService> logger)
        : this(database, logger, prepare: null)
    {
    }

    /// <param name="prepare">Runs on the connection before each query: a cluster defines its views over the shared storage there.</param>
    internal DuckDbQueryService(DuckDbDatabase database, ILogger<DuckDbQueryService> logger, Func<DuckDbConnection, CancellationToken, Task>? prepare)
    {
        _pool = new ConnectionPool<DuckDbConnection>(database.Options.QueryConnections, database.Connect);
        _logger = logger;
        _prepare = prepare;
    }

    /// <summary>
    /// Runs <paramref name="sql"/> and writes its rows to <paramref name="output"/>, flushing after
    /// each chunk. Nothing is written until the first rows are ready, so when this throws
    /// <see cref="QueryRejectedException"/> the caller can still answer with an error instead.
    /// Cancelling interrupts the query. If the output's reader goes away, the query stops quietly.
    /// </summary>
    /// <exception cref="QueryRejectedException">Not exactly one read-only statement, or DuckDB refused or failed it before any row.</exception>
    /// <exception cref="DuckDbException">DuckDB failed after rows had been written.</exception>
    public async Task ExecuteAsync(string sql, QueryResultFormat format, PipeWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(output);
        var connection = await _pool.RentAsync(cancellationToken).ConfigureAwait(false);
        var reusable = true;
        try
        {
            if (_prepare is not null)
                await _prepare(connection, cancellationToken).ConfigureAwait(false);
            await using (cancellationToken.Register(static c => ((DuckDbConnection)c!).Interrupt(), connection).ConfigureAwait(false))
            {
                using var plan = QueryPlan.Create(connection, sql, format);
                // Belt and braces: even a SELECT that found a way to write (a table function with
                // side effects, EXPLAIN ANALYZE of a write) fails inside a read-only transaction.
                connection.Execute("BEGIN TRANSACTION READ ONLY");
                try
                {
                    await StreamAsync(plan, QueryResultWriter.Create(format, plan), output, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    reusable = TryRollback(connection);
                }
            }
        }
        catch (Exception e) when (e is DuckDbException or QueryRejectedException && cancellationToken.IsCancellationRequested)
        {
            // DuckDB reports the interrupt as an error, at whichever step it landed.
            throw new OperationCanceledException("The query was cancelled.", e, cancellationToken);
        }
        catch (QueryRejectedException e) when (!cancellationToken.IsCancellationRequested)
        {
            LogRejected(e.Message);
            throw;
        }
        finally
        {
            // An interrupt that lands between queries could linger; a cancelled connection is not reused.
            if (reusable && !cancellationToken.IsCancellationRequested)
                _pool.Return(connection);
            else
                _pool.Discard(connection);
        }
    }

    public void Dispose() => _pool.Dispose();

    private static async Task StreamAsync(QueryPlan plan, QueryResultWriter writer, PipeWriter output, CancellationToken cancellationToken)
    {
        DuckDbResultHandle result;
        try
        {
            result = plan.Statement.ExecuteStreaming();
        }
        catch (DuckDbException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new QueryRejectedException(e.Message, e);
        }

        using (result)
        {
            var started = false;
            while (true)
            {
                using (var chunk = result.FetchChunk())
                {
                    if (chunk is null)
                        break;
                    if (!started)
                        writer.WriteStart(output);
                    started = true;
                    writer.WriteRows(chunk, (int)NativeMethods.DataChunk.Size(chunk), output);
                }

                var flushed = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                    return;
            }

            if (result.HasError)
            {
                var error = result.Failure();
                throw started || cancellationToken.IsCancellationRequested ? error : new QueryRejectedException(error.Message, error);
            }

            if (!started)
                writer.WriteStart(output);
            writer.WriteEnd(output);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private bool TryRollback(DuckDbConnection connection)
    {
        try
        {
            connection.Execute("ROLLBACK");
            return true;
        }
        catch (DuckDbException e)
        {
            LogRollbackFailed(e);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not end a query's transaction; its connection is dropped")]
    private partial void LogRollbackFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refused query: {Reason}")]
    private partial void LogRejected(string reason);
}
