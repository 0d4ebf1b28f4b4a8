using System.Net.WebSockets;
using System.Text;
using Ingest.Contracts;
using Ingest.Gateway.Ingest;

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
    private sealed class RecordingSocket : WebSocket
    {
        private WebSocketState _state = WebSocketState.Open;

        public TaskCompletionSource SendStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReleaseSends { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<string> Sent { get; } = [];

        public (WebSocketCloseStatus, string?)? Closed { get; private set; }

        public override WebSocketCloseStatus? CloseStatus => Closed?.Item1;

        public override string? CloseStatusDescription => Closed?.Item2;

        public override WebSocketState State => _state;

        public override string? SubProtocol => null;

        public override async Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        {
            SendStarted.TrySetResult();
            await ReleaseSends.Task;
            Sent.Add(Encoding.UTF8.GetString(buffer));
        }

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
        {
            Closed = (closeStatus, statusDescription);
            _state = WebSocketState.CloseSent;
            return Task.CompletedTask;
        }

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
            CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

        public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
            throw new NotSupportedException("The acknowledgements only send.");

        public override void Abort() => _state = WebSocketState.Aborted;

        public override void Dispose()
        {
        }
    }
}
