using System.Text;
using Ingest.Contracts;
using Ingest.Grains;

namespace Ingest.Tests.Storage.DuckDb;

/// <summary>Streams and flushes as a grain would produce them.</summary>
internal static class TestStreams
{
    /// <summary>A time with whole microseconds, which is what DuckDB keeps.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 21, 12, 0, 0, 123, 456, TimeSpan.Zero);

    public static StreamState Opened(string? remoteAddress = "10.0.0.7", StreamTransport transport = StreamTransport.WebSocket) =>
        StreamState.Opened(
            StreamKey.New(),
            new StreamOpened(transport, remoteAddress, """{"user-agent":"test","x-tag":["a","b"]}""", Start),
            StorageSinks.DuckDb);

    public static EventBatch Batch(DateTimeOffset receivedAt, IEnumerable<string> events, int rejected = 0)
    {
        var payloads = new MemoryStream();
        var ends = new List<int>();
        foreach (var text in events)
        {
            payloads.Write(Encoding.UTF8.GetBytes(text));
            ends.Add((int)payloads.Length);
        }
        return new EventBatch(payloads.ToArray(), [.. ends], ends.Count, rejected, receivedAt);
    }

    /// <summary>The flush that takes <paramref name="state"/> on by the batches' events.</summary>
    public static StreamFlush Flush(StreamState state, params EventBatch[] batches) =>
        Flush(state, closedAt: null, batches);

    public static StreamFlush Flush(StreamState state, DateTimeOffset? closedAt, params EventBatch[] batches)
    {
        var next = state with
        {
            Events = state.Events + batches.Sum(b => b.Count),
            Bytes = state.Bytes + batches.Sum(b => b.Bytes),
            Rejected = state.Rejected + batches.Sum(b => b.Rejected),
            ClosedAt = closedAt ?? state.ClosedAt,
        };
        // Numbered as a grain numbers them: each batch continues where the last one ended.
        var seq = state.Position + 1;
        var numbered = new EventBatch[batches.Length];
        for (var i = 0; i < batches.Length; i++)
        {
            numbered[i] = batches[i] with { FirstSeq = seq };
            seq += batches[i].Entries;
        }
        return new StreamFlush(next, numbered);
    }

    public static string Event(int i, string level = "info") =>
        $$"""{"level":"{{level}}","msg":"event {{i}} says \"hi\"","n":{{i}},"tags":["a","ü"]}""";

    public static IEnumerable<string> Events(int from, int count, string level = "info") =>
        Enumerable.Range(from, count).Select(i => Event(i, level));
}
