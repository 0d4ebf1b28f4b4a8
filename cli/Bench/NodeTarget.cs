namespace Ingest.Cli.Bench;

/// <summary>Where the bench sends: a node's (or balancer's) ingest endpoint, and its blackhole twin.</summary>
internal sealed class NodeTarget(Uri address)
{
    public const string BlackholePath = "/v1/blackhole";

    public Uri Address { get; } = address;

    public Uri Post(bool blackhole) => new(Address, blackhole ? BlackholePath : "/");

    public Uri WebSocket(bool blackhole) =>
        new UriBuilder(Post(blackhole)) { Scheme = Address.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" }.Uri;
}
