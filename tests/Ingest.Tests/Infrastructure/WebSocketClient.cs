using System.Net.WebSockets;
using System.Text;

namespace Ingest.Tests.Infrastructure;

/// <summary>A telemetry client over a real WebSocket: sends events, collects the counts the server sends back.</summary>
internal sealed class WebSocketClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly List<long> _counts = [];
    private Task? _receiving;
    private volatile bool _closing;

    public IReadOnlyList<long> Counts
    {
        get
        {
            lock (_counts)
                return [.. _counts];
        }
    }

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseDescription => _socket.CloseStatusDescription;

    /// <param name="headers">Request headers, such as a resuming client's <c>X-Stream-Id</c>.</param>
    public static async Task<WebSocketClient> ConnectAsync(Uri address, IReadOnlyDictionary<string, string>? headers = null)
    {
        var client = new WebSocketClient();
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            client._socket.Options.SetRequestHeader(name, value);
        client._socket.Options.CollectHttpResponseDetails = true;
        await client._socket.ConnectAsync(address, CancellationToken.None);
        client._receiving = client.ReceiveAsync();
        return client;
    }

    public Task SendAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    public Task SendBinaryAsync(byte[] bytes) =>
        _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <summary>anacrolix/telemetry's hang-up: an empty binary message. Returns once the server has closed.</summary>
    public async Task HangUpAsync()
    {
        await SendBinaryAsync([]);
        await _receiving!.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>The upgrade response's headers, where a named stream's position is.</summary>
    public IReadOnlyDictionary<string, IEnumerable<string>>? ResponseHeaders => _socket.HttpResponseHeaders;

    /// <summary>The connection drops, as when a network fails: no close frame, no hang-up.</summary>
    public void Abort() => _socket.Abort();

    /// <summary>A normal close handshake started by the client.</summary>
    public async Task CloseAsync()
    {
        _closing = true;
        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await _receiving!.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Waits until the server has acknowledged at least <paramref name="count"/> events.</summary>
    public async Task WaitForCountAsync(long count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Counts.Count == 0 || Counts[^1] < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no acknowledgement of {count} events; last: {(Counts.Count > 0 ? Counts[^1] : 0)}");
            await Task.Delay(20);
        }
    }

    public Task Completion => _receiving!;

    private async Task ReceiveAsync()
    {
        var buffer = new byte[256];
        while (true)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
            }
            catch (Exception exception) when (_socket.State == WebSocketState.Aborted && exception is WebSocketException or OperationCanceledException)
            {
                return;
            }
            if (result.MessageType == WebSocketMessageType.Close)
            {
                // The server's answer to our own close can beat the socket's note that we sent it;
                // answering it again would write to a connection the server has closed.
                // A server that closed as it exited (SIGTERM) may be gone before the answer: the
                // close it sent is what counts.
                if (_socket.State == WebSocketState.CloseReceived && !_closing)
                {
                    try
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }
                    catch (WebSocketException)
                    {
                    }
                }
                return;
            }
            Assert.True(result.EndOfMessage);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            lock (_counts)
                _counts.Add(long.Parse(Encoding.ASCII.GetString(buffer, 0, result.Count), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
