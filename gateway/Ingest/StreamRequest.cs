using System.Buffers;
using System.Globalization;
using Ingest.Contracts;
using Microsoft.AspNetCore.Http;

namespace Ingest.Gateway.Ingest;

/// <summary>
/// What a request asks of its stream. anacrolix/telemetry clients ask nothing and get a fresh
/// stream. A client that opts in names its stream, so it can resume it on a new connection,
/// and may say which sequence number its first event has, so that what the stream already
/// holds is dropped rather than stored twice; it may also narrow the sinks its events go to.
/// Each setting is a header or, for clients that cannot set headers (browsers' WebSockets),
/// a query parameter.
/// </summary>
/// <param name="Named">The client named the stream, and so hears positions rather than counts.</param>
/// <param name="FirstSeq">The sequence number of the request's first event; null continues the stream.</param>
internal sealed record StreamRequest(StreamKey Key, bool Named, long? FirstSeq, StorageSinks Sinks)
{
    public const string IdHeader = "X-Stream-Id";
    public const string SeqHeader = "X-Stream-Seq";
    public const string SinksHeader = "X-Stream-Sinks";

    private static readonly SearchValues<char> KeyCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:@/+=");

    /// <summary>Reads the request's stream settings; null, with a reason a client can act on, if one is wrong.</summary>
    public static StreamRequest? Parse(HttpRequest request, StorageSinks deployed, out string? error)
    {
        error = null;
        var id = Setting(request, IdHeader, "stream");
        var seq = Setting(request, SeqHeader, "seq");
        var sinkNames = Setting(request, SinksHeader, "sinks");

        StreamKey key;
        if (id is null)
        {
            key = StreamKey.New();
        }
        else if (id.Length is 0 or > StreamKey.MaxLength || id.AsSpan().ContainsAnyExcept(KeyCharacters))
        {
            error = $"{IdHeader} must be 1 to {StreamKey.MaxLength} characters of letters, digits and -._~:@/+= (got '{Printable(id)}').";
            return null;
        }
        else
        {
            key = new StreamKey(id);
        }

        long? firstSeq = null;
        if (seq is not null)
        {
            if (!long.TryParse(seq, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed < 1)
            {
                error = $"{SeqHeader} must be a whole number from 1: the sequence number of the first event sent (got '{Printable(seq)}').";
                return null;
            }
            firstSeq = parsed;
        }

        var sinks = StorageSinks.None;
        if (sinkNames is not null)
        {
            if (!StorageSinkNames.TryParse(sinkNames, out sinks, out var unknown) || sinks == StorageSinks.None)
            {
                error = $"{SinksHeader} names sinks from duckdb and postgres, comma-separated (got '{Printable(unknown ?? sinkNames)}').";
                return null;
            }
            if ((sinks & ~deployed) != StorageSinks.None)
            {
                error = $"{SinksHeader} asks for {(sinks & ~deployed).ToNames()}, but this deployment writes to {deployed.ToNames()} only.";
                return null;
            }
        }
        return new StreamRequest(key, id is not null, firstSeq, sinks);
    }

    /// <summary>The number a client is told: a named stream's position, or anacrolix's count of events stored.</summary>
    public long Count(StreamProgress progress) => Named ? progress.Position : progress.Stored;

    /// <summary>The response headers that tell a client where its stream stands.</summary>
    public void Describe(HttpResponse response, StreamProgress progress)
    {
        var headers = response.Headers;
        headers["X-Stream-Id"] = Key.Value;
        headers["X-Stream-Position"] = progress.Position.ToString(CultureInfo.InvariantCulture);
        headers["X-Events-Stored"] = progress.Stored.ToString(CultureInfo.InvariantCulture);
        headers["X-Events-Rejected"] = progress.Rejected.ToString(CultureInfo.InvariantCulture);
        headers["X-Events-Duplicate"] = progress.Duplicates.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Why a request that would leave a gap in its stream is refused.</summary>
    public string Gap(long position, long firstSeq) =>
        $"stream {Key} holds events up to {position}; send from {position + 1} (this request starts at {firstSeq})";

    private static string? Setting(HttpRequest request, string header, string parameter)
    {
        if (request.Headers.TryGetValue(header, out var values) && values.Count > 0)
            return values.ToString().Trim();
        return request.Query.TryGetValue(parameter, out var query) && query.Count > 0 ? query.ToString().Trim() : null;
    }

    private static string Printable(string value) => value.Length <= 40 ? value : string.Concat(value.AsSpan(0, 40), "...");
}
