namespace Ingest.Cli.Bench;

/// <summary>Which protocols <c>bench node</c> drives: <c>--transport post|ws|both</c>.</summary>
[Flags]
internal enum BenchTransports
{
    Post = 1,
    WebSocket = 2,
    Both = Post | WebSocket,
}
