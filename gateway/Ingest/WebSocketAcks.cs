using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using Ingest.Contracts;
using Ingest.Gateway.WebSockets;

namespace Ingest.Gateway.Ingest;

/// <summary>
/// Sends a WebSocket stream's durable count each time it advances, and finally the close
/// frame. It is the only sender of counts, so they go out in order; a
/// slow reader only ever gets the newest count.
/// </summary>
/// <remarks>A named stream hears its position, which counts rejected events too, so a resuming client knows where to send from.</remarks>
internal sealed class WebSocketAcks(IWebSocketOutput socket, StreamRequest stream) : IStreamObserver
{
    private readonly SemaphoreSlim _wake = new(0);
    private long _stored = -1;
    private long _sent = -1;
    private int _awake;
    private CloseRequest? _close;

    public void OnStored(StreamKey key, StreamProgress progress)
    {
        AtomicMax.Raise(ref _stored, stream.Count(progress));
        Wake();
    }

    /// <summary>The client may be sending nothing, so close now rather than at its next message.</summary>
    public void OnFailed(StreamKey key, string reason) =>
        Close(WebSocketCloseStatus.InternalServerError, $"storage failed: {reason}");

    /// <summary>Sends any count not yet sent, then a close frame with this status; the first close asked for wins.</summary>
    public void Close(WebSocketCloseStatus status, string reason)
    {
        Interlocked.CompareExchange(ref _close, new CloseRequest(status, reason), null);
        Wake();
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var digits = new byte[20];
        while (true)
        {
            await _wake.WaitAsync(cancellationToken);
            Volatile.Write(ref _awake, 0);
            // The close first: whoever closes raised the count before, so a close seen here comes
            // with its final count, even one raised while the last count was being sent.
            var close = Volatile.Read(ref _close);
            var stored = Interlocked.Read(ref _stored);
            if (stored > _sent && socket.CanSend)
            {
                stored.TryFormat(digits, out var written, default, CultureInfo.InvariantCulture);
                await socket.SendTextAsync(digits.AsMemory(0, written), cancellationToken);
                _sent = stored;
            }
            if (close is not null)
            {
                if (socket.CanSend)
                    await socket.CloseOutputAsync(close.Status, Truncate(close.Reason), cancellationToken);
                return;
            }
        }
    }

    private void Wake()
    {
        if (Interlocked.Exchange(ref _awake, 1) == 0)
            _wake.Release();
    }

    private sealed record CloseRequest(WebSocketCloseStatus Status, string Reason);

    /// <summary>A close reason is limited to 123 bytes of UTF-8.</summary>
    private static string? Truncate(string? reason)
    {
        if (reason is null || Encoding.UTF8.GetByteCount(reason) <= 123)
            return reason;
        var end = 120;
        while (Encoding.UTF8.GetByteCount(reason.AsSpan(0, end)) > 120)
            end--;
        return string.Concat(reason.AsSpan(0, end), "...");
    }
}
