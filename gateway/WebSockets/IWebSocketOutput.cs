using System.Net.WebSockets;

namespace Ingest.Gateway.WebSockets;

/// <summary>What a WebSocket's acknowledgements need of it: text messages, then a close frame.</summary>
internal interface IWebSocketOutput
{
    /// <summary>Neither closed by this end nor aborted.</summary>
    bool CanSend { get; }

    ValueTask SendTextAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken);

    ValueTask CloseOutputAsync(WebSocketCloseStatus status, string? reason, CancellationToken cancellationToken);
}
