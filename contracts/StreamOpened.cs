namespace Ingest.Contracts;

/// <summary>What the gateway knows about a stream when it opens.</summary>
/// <param name="HeadersJson">The opening request's headers as a JSON object; a repeated header is an array.</param>
/// <param name="Sinks">The sinks the client asked for; <see cref="StorageSinks.None"/> takes the deployment's.</param>
public sealed record StreamOpened(
    StreamTransport Transport,
    string? RemoteAddress,
    string HeadersJson,
    DateTimeOffset OpenedAt,
    StorageSinks Sinks = StorageSinks.None);
