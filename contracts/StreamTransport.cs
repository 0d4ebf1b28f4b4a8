namespace Ingest.Contracts;

public enum StreamTransport
{
    WebSocket,
    Http,
}

public static class StreamTransportNames
{
    /// <summary>The name stored in the <c>streams.transport</c> column.</summary>
    public static string ToWireName(this StreamTransport transport) => transport switch
    {
        StreamTransport.WebSocket => "websocket",
        StreamTransport.Http => "http",
        _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, null),
    };

    public static StreamTransport Parse(string name) => name switch
    {
        "websocket" => StreamTransport.WebSocket,
        "http" => StreamTransport.Http,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown transport."),
    };
}
