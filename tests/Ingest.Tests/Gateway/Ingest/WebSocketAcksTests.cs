using System.Net.WebSockets;
using System.Text;
using Ingest.Contracts;
using Ingest.Gateway.Ingest;
using Ingest.Gateway.WebSockets;

namespace Ingest.Tests.Gateway.Ingest;

/// <summary>The counts a WebSocket stream is sent, and the close frame after them (a socket that records what it is sent).</summary>
public sealed class WebSocketAcksTests
{
    private static readonly StreamKey Key = StreamKey.New();

    [Fact]
    public async Task A_count_raised_while_the_last_was_being_sent_goes_out_before_the_close()
    {
        var socket = new RecordingSocket();
        var acks = new WebSocketAcks(socket, new StreamRequest(Key, Named: false, FirstSeq: null, StorageSinks.None));
        var running = acks.RunAsync(CancellationToken.None);

        acks.OnStored(Key, Stored(100));
        await socket.SendStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // While "100" is on its way, the stream ends: its final count, then the close.
        acks.OnStored(Key, Stored(250));
        acks.Close(WebSocketCloseStatus.NormalClosure, "stored 250");
        socket.ReleaseSends.SetResult();
        await running.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["100", "250"], socket.Sent);
        Assert.Equal((WebSocketCloseStatus.NormalClosure, "stored 250"), socket.Closed);
    }

    [Fact]
    public async Task The_first_close_asked_for_is_the_one_sent()
    {
        var socket = new RecordingSocket();
        socket.ReleaseSends.SetResult();
        var acks = new WebSocketAcks(socket, new StreamRequest(Key, Named: false, FirstSeq: null, StorageSinks.None));

        acks.OnStored(Key, Stored(7));
        acks.Close(WebSocketCloseStatus.InternalServerError, "storage failed: disk full");
        acks.Close(WebSocketCloseStatus.NormalClosure, "stored 7");
        await acks.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["7"], socket.Sent);
        Assert.Equal((WebSocketCloseStatus.InternalServerError, "storage failed: disk full"), socket.Closed);
    }

    private static StreamProgress Stored(long events) => new(events, 0, 0, 0);

    /// <summary>Records text messages and the close; each send waits for <see cref="ReleaseSends"/>.</summary>
    private sealed class RecordingSocket : IWebSocketOutput
    {
        public TaskCompletionSource SendStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReleaseSends { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<string> Sent { get; } = [];

        public (WebSocketCloseStatus, string?)? Closed { get; private set; }

        public bool CanSend => Closed is null;

        public async ValueTask SendTextAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
        {
            SendStarted.TrySetResult();
            await ReleaseSends.Task;
            Sent.Add(Encoding.UTF8.GetString(message.Span));
        }

        public ValueTask CloseOutputAsync(WebSocketCloseStatus status, string? reason, CancellationToken cancellationToken)
        {
            Closed = (status, reason);
            return ValueTask.CompletedTask;
        }
    }
}
