namespace Ingest.Gateway.WebSockets;

/// <summary>Takes the messages a <see cref="ClientFrameReader"/> reads.</summary>
internal interface IClientMessages
{
    /// <param name="payload">The unmasked message, valid only during the call; empty if <paramref name="oversize"/>.</param>
    /// <param name="binary">A binary message rather than text.</param>
    /// <param name="oversize">The message was over the reader's limit and was dropped.</param>
    /// <returns>Whether to go on reading the messages already received.</returns>
    bool OnMessage(ReadOnlySpan<byte> payload, bool binary, bool oversize);
}
