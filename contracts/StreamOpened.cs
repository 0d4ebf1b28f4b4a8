namespace Ingest.Contracts;

/// <summary>What the gateway knows about a stream when it opens.</summary>
/// <param name="HeadersJson">The opening request's headers as a JSON object; a repeated header is an array.</param>
/// <param name="Sinks">The sinks the client asked for; <see cref="StorageSinks.None"/> takes the deployment's.</param>
/// <param name="Named">
/// The client named the stream (<c>X-Stream-Id</c>, <c>?stream=</c>), so it may come back to it: the
/// stream's grain then stays active after it closes, until it is idle. A stream the node named
/// for one request or connection is gone when it closes.
/// </param>
public sealed record StreamOpened(
    StreamTransport Transport,
    string? RemoteAddress,
    string HeadersJson,
    DateTimeOffset OpenedAt,
    StorageSinks Sinks = StorageSinks.None,
    bool Named = false);
