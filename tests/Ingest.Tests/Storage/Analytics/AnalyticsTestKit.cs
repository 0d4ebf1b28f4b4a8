using System.Globalization;
using System.Text;
using Ingest.Silo.Storage.Analytics;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Native;
using Ingest.Tests.Fakes;
using Ingest.Tests.Infrastructure;
using Ingest.Tests.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Ingest.Tests.Storage.Analytics;

/// <summary>
/// A shared directory of real files, a fresh catalog database on a real PostgreSQL, and the
/// analytics parts opened on them. Segments are written here the way a node's sink writes
/// them: a Parquet file, then its <c>segments</c> row.
/// </summary>
internal sealed class AnalyticsTestKit : IAsyncDisposable
{
    private readonly TempDirectory _shared = new();
    private readonly List<NpgsqlConnection> _connections = [];

    private AnalyticsTestKit(PostgresTestKit postgres, AnalyticsOptions options, TimeProvider time)
    {
        Postgres = postgres;
        Options = options;
        Time = time;
    }

    public PostgresTestKit Postgres { get; }

    public AnalyticsOptions Options { get; }

    public TimeProvider Time { get; }

    /// <summary>The clock, when the kit was made with the manual one.</summary>
    public ManualTimeProvider Clock => (ManualTimeProvider)Time;

    public DuckDbOptions DuckDb { get; } = new() { MemoryLimit = "256MB", Threads = 2 };

    public string SharedDirectory => Options.SharedDirectory;

    public string CatalogPath => Path.Combine(SharedDirectory, "catalog.duckdb");

    /// <param name="time">The components' clock; by default a manual one set to the real time, so it agrees with file times.</param>
    public static async Task<AnalyticsTestKit> CreateAsync(
        PostgresFixture fixture, Action<AnalyticsOptions>? configure = null, TimeProvider? time = null)
    {
        if (time is null)
        {
            var clock = new ManualTimeProvider();
            clock.Advance(DateTimeOffset.UtcNow - clock.GetUtcNow());
            time = clock;
        }
        var postgres = await PostgresTestKit.CreateAsync(fixture);
        var kit = new AnalyticsTestKit(postgres, new AnalyticsOptions { NodeName = "test-node" }, time);
        kit.Options.SharedDirectory = kit._shared.Path;
        configure?.Invoke(kit.Options);
        return kit;
    }

    public SegmentCompactor Compactor(AnalyticsOptions? options = null) =>
        new(options ?? Options, DuckDb, Time, NullLogger<SegmentCompactor>.Instance);

    public CatalogPublisher Publisher() => new(Options, DuckDb, Time, NullLogger<CatalogPublisher>.Instance);

    public FileCollector Collector() => new(Options, Time, NullLogger<FileCollector>.Instance);

    public AnalyticsCatalog Catalog() => new(Postgres.Database);

    /// <summary>A connection of its own, as the maintainer has; closed with the kit.</summary>
    public async Task<NpgsqlConnection> ConnectAsync()
    {
        var connection = new NpgsqlConnection(Postgres.ConnectionString);
        await connection.OpenAsync();
        _connections.Add(connection);
        return connection;
    }

    /// <summary>
    /// Writes events <paramref name="firstSeq"/>.. of a stream as a Parquet segment, one
    /// microsecond apart from <paramref name="receivedAt"/>, and commits its row unless told not to.
    /// </summary>
    public async Task<TestSegment> AddSegmentAsync(
        string streamId, long firstSeq, int count, DateTimeOffset? receivedAt = null, int level = 0, bool commit = true)
    {
        var from = receivedAt ?? Time.GetUtcNow();
        var id = Guid.CreateVersion7(Time.GetUtcNow());
        var relative = $"events/date={from.UtcDateTime:yyyy-MM-dd}/{id:D}.parquet";
        var file = Path.Combine(SharedDirectory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var fromMicros = (from.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        using (var database = DuckDbDatabase.OpenInMemory(DuckDb, SharedDirectory))
        using (var connection = database.Connect())
        {
            connection.Execute(string.Create(CultureInfo.InvariantCulture, $"""
                COPY (SELECT CAST({Literal(streamId)} AS VARCHAR) AS stream_id, r AS seq,
                             CAST(make_timestamp({fromMicros} + r - {firstSeq}) AS TIMESTAMPTZ) AS received_at,
                             CAST(json_object('stream', {Literal(streamId)}, 'n', r) AS JSON) AS payload
                      FROM range({firstSeq}, {firstSeq + count}) AS t(r))
                TO {Literal(file)} (FORMAT parquet, COMPRESSION zstd)
                """));
        }

        var segment = new TestSegment(id, relative, file, count, from, from.AddTicks((count - 1) * 10L), level);
        if (commit)
        {
            await using var connection = new NpgsqlConnection(Postgres.ConnectionString);
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand("""
                INSERT INTO segments (id, path, events, bytes, min_received_at, max_received_at, level, created_by, created_at)
                VALUES (@id, @path, @events, @bytes, @min, @max, @level, 'test-sink', @now)
                """, connection);
            insert.Parameters.AddWithValue("id", id);
            insert.Parameters.AddWithValue("path", relative);
            insert.Parameters.AddWithValue("events", (long)count);
            insert.Parameters.AddWithValue("bytes", new FileInfo(file).Length);
            insert.Parameters.AddWithValue("min", segment.MinReceivedAt.UtcDateTime);
            insert.Parameters.AddWithValue("max", segment.MaxReceivedAt.UtcDateTime);
            insert.Parameters.AddWithValue("level", level);
            insert.Parameters.AddWithValue("now", Time.GetUtcNow().UtcDateTime);
            await insert.ExecuteNonQueryAsync();
        }
        // Segments made one after another are told apart by creation time, as a sink's would be.
        if (Time is ManualTimeProvider clock)
            clock.Advance(TimeSpan.FromMilliseconds(1));
        return segment;
    }

    /// <summary>Sets a stream's row in <c>analytics_streams</c>, as a sink does with each segment.</summary>
    public Task SetStreamAsync(string id, long events, string headers = """{"user-agent":"test"}""", bool closed = false) =>
        Postgres.ExecuteAsync($"""
            INSERT INTO analytics_streams (id, transport, remote_addr, headers, opened_at, closed_at, events, bytes, rejected, duplicates, sinks, updated_at)
            VALUES ('{id}', 'http', '10.0.0.7', '{headers.Replace("'", "''", StringComparison.Ordinal)}', '2026-11-21 10:00:00.123456+00', {(closed ? "'2026-11-21 10:05:00+00'" : "NULL")},
                    {events}, {events * 100}, 1, 2, 'duckdb', clock_timestamp())
            ON CONFLICT (id) DO UPDATE SET events = EXCLUDED.events, bytes = EXCLUDED.bytes, closed_at = EXCLUDED.closed_at, updated_at = EXCLUDED.updated_at
            """);

    /// <summary>Every event as <c>stream:seq</c>, in ordinal order, read the way a node's queries read them: through the catalog's views.</summary>
    public async Task<string[]> EventKeysAsync()
    {
        var snapshot = await Catalog().ReadAsync(CancellationToken.None);
        using var database = DuckDbDatabase.OpenInMemory(DuckDb, SharedDirectory);
        using var connection = database.Connect();
        connection.Execute(CatalogViews.CreateViews(snapshot, SharedDirectory, temporary: true));
        var keys = QueryText(connection, "SELECT string_agg(stream_id || ':' || seq, ',') FROM events");
        return keys.Length == 0 ? [] : Sorted(keys.Split(','));
    }

    /// <summary>The keys events <paramref name="firstSeq"/>.. of a stream have, unsorted.</summary>
    public static IEnumerable<string> Keys(string streamId, long firstSeq, int count) =>
        Enumerable.Range(0, count).Select(i => $"{streamId}:{firstSeq + i}");

    public static string[] Sorted(IEnumerable<string> keys) => [.. keys.Order(StringComparer.Ordinal)];

    /// <summary>Segment files on disk, relative to the shared directory.</summary>
    public string[] SegmentFiles()
    {
        var events = Path.Combine(SharedDirectory, "events");
        return Directory.Exists(events)
            ? [.. Directory.EnumerateFiles(events, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(SharedDirectory, f)).Order(StringComparer.Ordinal)]
            : [];
    }

    public string[] CatalogDirectoryFiles()
    {
        var catalog = Path.Combine(SharedDirectory, "catalog");
        return Directory.Exists(catalog) ? [.. Directory.EnumerateFiles(catalog).Select(Path.GetFileName).Order(StringComparer.Ordinal)!] : [];
    }

    public Task<long> LiveSegmentsAsync() => Postgres.CountAsync("SELECT count(*) FROM segments WHERE retired_at IS NULL");

    /// <summary>The first column of the first row, as text, from DuckDB.</summary>
    public static string QueryText(DuckDbConnection connection, string sql)
    {
        using var statement = connection.Prepare(sql);
        using var result = statement.Execute();
        using var chunk = result.FetchChunk() ?? throw result.Failure();
        var column = new DuckDbColumn(chunk, 0);
        return column.IsNull(0) ? string.Empty : Encoding.UTF8.GetString(column.GetBytes(0));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
            await connection.DisposeAsync();
        await Postgres.DisposeAsync();
        _shared.Dispose();
    }

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
