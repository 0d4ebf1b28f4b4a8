namespace Ingest.Tests.Infrastructure;

/// <summary>
/// A client that opted in to resuming: it names its stream, and after any failure reconnects,
/// learns where the stream stands, and sends again from there. Event <c>i</c> is
/// <see cref="Ndjson.Event"/>(i), so what was stored can be checked by sequence number.
/// </summary>
internal sealed class ResumingClient(string stream, int total)
{
    public string Stream { get; } = stream;

    public int Total { get; } = total;

    /// <summary>The highest count any connection acknowledged.</summary>
    public long Acknowledged { get; private set; }

    /// <summary>
    /// Sends over one connection from wherever the stream stands, pausing now and then so a test
    /// can act mid-stream. Returns true once all events are acknowledged, false if the connection failed.
    /// </summary>
    public async Task<bool> SendAsync(Uri address, CancellationToken cancellationToken = default)
    {
        WebSocketClient client;
        try
        {
            client = await WebSocketClient.ConnectAsync(address, new Dictionary<string, string> { ["X-Stream-Id"] = Stream });
        }
        catch (System.Net.WebSockets.WebSocketException)
        {
            return false;
        }
        await using (client)
        {
            try
            {
                await client.WaitForCountAsync(0);
                var position = client.Counts[0];
                // Storage can only be ahead of what was acknowledged: a lower position would mean loss.
                Assert.True(position >= Acknowledged, $"stream {Stream} stands at {position}, below the {Acknowledged} acknowledged");
                for (var i = (int)position + 1; i <= Total; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await client.SendAsync(Ndjson.Event(i));
                    if (i % 50 == 0)
                    {
                        Acknowledged = Math.Max(Acknowledged, client.Counts[^1]);
                        await Task.Delay(2, cancellationToken);
                    }
                }
                await client.HangUpAsync();
                Acknowledged = Math.Max(Acknowledged, client.Counts[^1]);
                return client.Counts[^1] == Total;
            }
            catch (Exception exception) when (exception is System.Net.WebSockets.WebSocketException or IOException or TimeoutException
                or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (client.Counts.Count > 0)
                    Acknowledged = Math.Max(Acknowledged, client.Counts[^1]);
                return false;
            }
        }
    }
}
