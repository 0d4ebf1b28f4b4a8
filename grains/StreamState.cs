using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>A stream's durable state: the row each sink keeps in <c>streams</c>.</summary>
/// <param name="Sinks">Where the stream's events go, fixed by its first open.</param>
public sealed record StreamState(
    StreamKey Key,
    StreamTransport Transport,
    string? RemoteAddress,
    string HeadersJson,
    DateTimeOffset OpenedAt,
    DateTimeOffset? ClosedAt,
    long Events,
    long Bytes,
    long Rejected,
    long Duplicates,
    StorageSinks Sinks)
{
    public StreamProgress Progress => new(Events, Bytes, Rejected, Duplicates);

    /// <summary>The last sequence number settled: every event up to it is stored or was rejected.</summary>
    public long Position => Events + Rejected;

    public static StreamState Opened(StreamKey key, StreamOpened opened, StorageSinks sinks) =>
        new(key, opened.Transport, opened.RemoteAddress, opened.HeadersJson, opened.OpenedAt, null, 0, 0, 0, 0, sinks);
}
