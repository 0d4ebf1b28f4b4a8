using System.Diagnostics;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Native;
using Ingest.Silo.Storage.DuckDb.Sink;

namespace Ingest.Cli.Bench;

/// <summary>
/// The storage limit: the POST run's rows (one stream per request, numbered from 1) written into a
/// fresh DuckDB file with the silo's own binding and data-chunk writer, from one thread, with no
/// network, no grains and no <c>streams</c> rows: one appender per transaction of about
/// <see cref="CommitRows"/> rows, fed data chunks that <see cref="EventRows"/> fills as it fills
/// the node's. Only the appends and commits are timed, after an untimed warm-up of the same code
/// into another file.
/// </summary>
internal static class AppenderBaseline
{
    public const int CommitRows = 65_536;

    /// <summary>Commits of the untimed warm-up.</summary>
    private const int WarmUpCommits = 4;

    /// <summary>Events per batch, as the node's framing hands them to a grain.</summary>
    private const int BatchEvents = 4096;

    private const string Headers = """{"user-agent":"ingest-bench","content-type":"application/x-ndjson"}""";

    /// <param name="warmUpPause">How long to wait after the untimed warm-up, for the optimised code (see <see cref="ParseBaseline"/>).</param>
    public static BenchRun Run(EventCorpus corpus, int streams, int eventsPerRequest, string directory, TimeSpan warmUpPause)
    {
        var flushes = Flushes(corpus, streams, eventsPerRequest, DateTimeOffset.UtcNow).ConvertAll(flush => new PendingFlush(flush, 0));
        // Untimed first, into a file of its own: the same code, so the timed run finds it compiled.
        Append(flushes.GetRange(0, Math.Min(flushes.Count, WarmUpCommits * CommitRows / BatchEvents)), Path.Combine(directory, "appender-warm-up.duckdb"));
        Thread.Sleep(warmUpPause);
        var (elapsed, stored) = Append(flushes, Path.Combine(directory, "appender.duckdb"));
        IReadOnlyList<string> errors = stored == corpus.Count ? [] : [$"the appender stored {stored} of {corpus.Count} rows"];
        return new BenchRun("appender", "-", "in-process", 1, corpus.Count, stored, corpus.Bytes, elapsed, 0, null, null, errors);
    }

    /// <returns>The time the appends and commits took, and the rows the file then holds.</returns>
    private static (TimeSpan Elapsed, long Stored) Append(List<PendingFlush> flushes, string file)
    {
        using var database = DuckDbDatabase.Open(new DuckDbOptions { Path = file });
        using var connection = database.Connect();
        using var chunk = EventChunk(connection);
        var rows = new EventRows();
        var group = new List<FlushPart>();
        var watch = Stopwatch.StartNew();
        for (var next = 0; next < flushes.Count;)
        {
            group.Clear();
            for (long taken = 0; next < flushes.Count && taken < CommitRows; next++)
            {
                group.Add(FlushPart.Next(flushes[next], long.MaxValue));
                taken += flushes[next].Flush.EventCount;
            }
            connection.Execute("BEGIN TRANSACTION");
            using (var appender = connection.CreateAppender(DuckDbSchema.EventTables[0]))
            {
                rows.Start(group);
                for (int filled; (filled = rows.Fill(chunk.DangerousGetHandle())) > 0;)
                {
                    NativeMethods.DataChunk.SetSize(chunk, (ulong)filled);
                    appender.Append(chunk);
                    NativeMethods.DataChunk.Reset(chunk);
                }
                appender.Flush();
            }
            connection.Execute("COMMIT");
        }
        watch.Stop();
        return (watch.Elapsed, CountRows(connection));
    }

    /// <summary>A data chunk of the event table's own column types, so the appender casts nothing.</summary>
    private static unsafe DuckDbDataChunkHandle EventChunk(DuckDbConnection connection)
    {
        var columns = EventInserter.ColumnsOf(connection, DuckDbSchema.EventTables[0]);
        try
        {
            var pointers = stackalloc IntPtr[columns.Length];
            for (var i = 0; i < columns.Length; i++)
                pointers[i] = columns[i].Type.DangerousGetHandle();
            return NativeMethods.DataChunk.Create(pointers, (ulong)columns.Length);
        }
        finally
        {
            foreach (var (_, type) in columns)
                type.Dispose();
        }
    }

    /// <summary>The rows, made before the clock starts: each request's events as one stream's flushes.</summary>
    private static List<StreamFlush> Flushes(EventCorpus corpus, int streams, int eventsPerRequest, DateTimeOffset receivedAt)
    {
        var flushes = new List<StreamFlush>();
        for (var s = 0; s < streams; s++)
        {
            var (first, count) = corpus.Share(s, streams);
            for (var done = 0; done < count; done += eventsPerRequest)
            {
                var state = StreamState.Opened(
                    StreamKey.New(), new StreamOpened(StreamTransport.Http, "127.0.0.1", Headers, receivedAt), StorageSinks.DuckDb);
                var requestEvents = Math.Min(eventsPerRequest, count - done);
                for (var b = 0; b < requestEvents; b += BatchEvents)
                {
                    var batch = Batch(corpus, first + done + b, Math.Min(BatchEvents, requestEvents - b), firstSeq: b + 1, receivedAt);
                    state = state with { Events = state.Events + batch.Count, Bytes = state.Bytes + batch.Bytes };
                    flushes.Add(new StreamFlush(state, [batch]));
                }
            }
        }
        return flushes;
    }

    private static EventBatch Batch(EventCorpus corpus, int first, int count, long firstSeq, DateTimeOffset receivedAt)
    {
        // Every line is its event and one newline.
        var (_, length) = corpus.Lines(first, count);
        var payloads = new byte[length - count];
        var ends = new int[count];
        var end = 0;
        for (var i = 0; i < count; i++)
        {
            var payload = corpus.Event(first + i).Span;
            payload.CopyTo(payloads.AsSpan(end));
            end += payload.Length;
            ends[i] = end;
        }
        return new EventBatch(payloads, ends, count, 0, receivedAt) { FirstSeq = firstSeq };
    }

    private static long CountRows(DuckDbConnection connection)
    {
        using var statement = connection.Prepare($"SELECT count(*) FROM {DuckDbSchema.EventsView}");
        using var result = statement.Execute();
        using var chunk = result.FetchChunk() ?? throw result.Failure();
        return new DuckDbColumn(chunk, 0).GetInt64(0);
    }
}
