using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>A stream's durable state: the row the sinks keep in <c>streams</c>.</summary>
/// <param name="Events">Events stored; also the sequence number of the last one.</param>
public sealed record StreamState(
    StreamKey Key,
    StreamTransport Transport,
    string? RemoteAddress,
    string HeadersJson,
    DateTimeOffset OpenedAt,
    DateTimeOffset? ClosedAt,
    long Events,
    long Bytes,
    long Rejected)
{
    public StreamProgress Progress => new(Events, Bytes, Rejected);

    public static StreamState Opened(StreamKey key, StreamOpened opened) =>
        new(key, opened.Transport, opened.RemoteAddress, opened.HeadersJson, opened.OpenedAt, null, 0, 0, 0);
}
