using Ingest.Contracts;
using Ingest.Gateway.Framing;
using Ingest.Gateway.WebSockets;
using Microsoft.Extensions.Logging;

namespace Ingest.Gateway.Ingest;

/// <summary>
/// A WebSocket stream's messages as events: each is validated and goes into the next batch, or is
/// rejected and counted; an empty binary message is the hang-up. It asks the reader to pause when
/// the batch is full or the client hung up.
/// </summary>
internal sealed partial class WebSocketMessages(
    StreamKey key, EventBatchBuilder builder, RejectionLog rejections, int maxEventBytes, TimeProvider time, ILogger logger) : IClientMessages
{
    private const int BatchEvents = 4096;
    private const int BatchBytes = 1024 * 1024;

    private long _events;

    // When the batch's first message arrived: its events' received_at.
    private DateTimeOffset _batchStarted;

    public bool HungUp { get; private set; }

    public bool IsEmpty => builder.IsEmpty;

    public bool OnMessage(ReadOnlySpan<byte> payload, bool binary, bool oversize)
    {
        if (binary && payload.IsEmpty && !oversize)
        {
            HungUp = true;
            return false;
        }
        _events++;
        if (builder.IsEmpty)
            _batchStarted = time.GetUtcNow();
        var error = oversize ? JsonEventFramer.TooLarge(maxEventBytes) : JsonEventFramer.Validate(payload, maxEventBytes);
        if (error is null)
        {
            builder.Add(payload.Trim(" \t\r\n"u8));
        }
        else
        {
            builder.Reject();
            rejections.Add(new EventRejection(_events, 0, error));
            LogRejected(key, _events, error);
        }
        return builder.Count < BatchEvents && builder.Bytes < BatchBytes;
    }

    /// <summary>The events since the last batch.</summary>
    public EventBatch Build() => builder.Build(_batchStarted);

    [LoggerMessage(Level = LogLevel.Debug, Message = "WebSocket stream {Key} rejected event {Event}: {Reason}")]
    private partial void LogRejected(StreamKey key, long @event, string reason);
}
