namespace Ingest.Cli.Bench;

/// <summary>The idle scenario: how much the node holds per open WebSocket that sends nothing.</summary>
/// <param name="Opened">WebSockets that connected; all of <paramref name="Streams"/> unless some failed.</param>
/// <param name="ClosedCleanly">Of those, how many hung up and got the server's normal close.</param>
/// <param name="RssBeforeBytes">The node's resident memory before the first connected.</param>
/// <param name="RssHeldBytes">Its resident memory with all of them open.</param>
internal sealed record IdleResult(
    int Streams,
    int Opened,
    int ClosedCleanly,
    TimeSpan OpenTime,
    long? RssBeforeBytes,
    long? RssHeldBytes,
    NodeUsage? Node,
    IReadOnlyList<string> Errors)
{
    public long? RssPerStreamBytes => RssHeldBytes - RssBeforeBytes is { } grown && Opened > 0 ? grown / Opened : null;

    public bool Ok => Errors.Count == 0 && Opened == Streams && ClosedCleanly == Streams;
}
