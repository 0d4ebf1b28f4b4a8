using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Tests.Storage.DuckDb;

/// <summary>A real DuckDB file in a temp directory, and the storage parts opened on it.</summary>
internal sealed class StorageTestKit : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly Action<DuckDbOptions>? _configure;

    private StorageTestKit(Action<DuckDbOptions>? configure)
    {
        _configure = configure;
        Database = Open();
    }

    public DuckDbDatabase Database { get; private set; }

    public string DatabasePath => Database.Path;

    public static StorageTestKit Create(Action<DuckDbOptions>? configure = null) => new(configure);

    public DuckDbEventSink Sink() => new(Database, NullLogger<DuckDbEventSink>.Instance);

    public DuckDbQueryService Queries() => new(Database, NullLogger<DuckDbQueryService>.Instance);

    public DuckDbStreamStore Store() => new(Database);

    /// <summary>Closes the database (whatever used it must be disposed first) and opens the file again.</summary>
    public void Reopen()
    {
        Database.Dispose();
        Database = Open();
    }

    /// <summary>Runs a query through a fresh query service and returns its output as text.</summary>
    public async Task<string> QueryAsync(string sql, QueryResultFormat format = QueryResultFormat.Json)
    {
        using var queries = Queries();
        return await QueryAsync(queries, sql, format);
    }

    public async Task<JsonElement[]> QueryRowsAsync(string sql) =>
        JsonSerializer.Deserialize<JsonElement[]>(await QueryAsync(sql))!;

    public async Task<long> CountAsync(string sql) => (await QueryRowsAsync(sql))[0].EnumerateObject().First().Value.GetInt64();

    public static async Task<string> QueryAsync(
        DuckDbQueryService queries, string sql, QueryResultFormat format, CancellationToken cancellationToken = default)
    {
        // The reader drains while the query writes, as a client would; a full pipe would stall it.
        var pipe = new Pipe();
        var output = new MemoryStream();
        var reading = pipe.Reader.CopyToAsync(output, cancellationToken);
        try
        {
            await queries.ExecuteAsync(sql, format, pipe.Writer, cancellationToken);
        }
        finally
        {
            await pipe.Writer.CompleteAsync();
            await reading;
        }
        return Encoding.UTF8.GetString(output.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        Database.Dispose();
        _directory.Dispose();
        await Task.CompletedTask;
    }

    private DuckDbDatabase Open()
    {
        var options = new DuckDbOptions { Path = _directory.File("data/ingest.duckdb"), MemoryLimit = "256MB", Threads = 2 };
        _configure?.Invoke(options);
        return DuckDbDatabase.Open(options);
    }
}
