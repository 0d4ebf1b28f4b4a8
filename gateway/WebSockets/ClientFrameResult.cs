using System.Net.WebSockets;

namespace Ingest.Gateway.WebSockets;

/// <summary>Why <see cref="ClientFrameReader.Read"/> stopped, and what the caller has to answer.</summary>
internal readonly record struct ClientFrameResult(ClientFrameStop Stop, byte[]? Payload = null, WebSocketCloseStatus? Status = null, string? Reason = null)
{
    public static ClientFrameResult NeedMore => new(ClientFrameStop.NeedMore);

    public static ClientFrameResult Paused => new(ClientFrameStop.Paused);

    public static ClientFrameResult Quiet => new(ClientFrameStop.Quiet);

    public static ClientFrameResult Ended => new(ClientFrameStop.Ended);

    /// <summary>The client pinged: answer with a pong carrying <paramref name="payload"/>.</summary>
    public static ClientFrameResult Ping(byte[] payload) => new(ClientFrameStop.Ping, payload);

    /// <summary>The client's close frame, with its status if it gave one.</summary>
    public static ClientFrameResult Closed(WebSocketCloseStatus? status, string? reason) => new(ClientFrameStop.Closed, null, status, reason);

    /// <summary>The client broke the protocol: close with this status and reason, and read no further.</summary>
    public static ClientFrameResult Fail(WebSocketCloseStatus status, string reason) => new(ClientFrameStop.Failed, null, status, reason);
}

internal enum ClientFrameStop
{
    /// <summary>Every whole frame is consumed; read more.</summary>
    NeedMore,

    /// <summary>The handler asked to stop after its last message; call again with the rest.</summary>
    Paused,

    /// <summary>A ping came: answer it, then call again with the rest.</summary>
    Ping,

    /// <summary>The client's close frame came; nothing follows it.</summary>
    Closed,

    /// <summary>The client broke the protocol.</summary>
    Failed,

    /// <summary>Everything received is handled, and the next read would wait (<see cref="ServerWebSocket"/> only).</summary>
    Quiet,

    /// <summary>The connection ended without a close frame (<see cref="ServerWebSocket"/> only).</summary>
    Ended,
}
