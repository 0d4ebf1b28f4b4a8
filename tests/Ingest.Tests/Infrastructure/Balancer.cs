using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Ingest.Tests.Infrastructure;

/// <summary>nginx running deploy/nginx.conf in front of nodes on loopback ports: the compose file's balancer.</summary>
internal sealed class Balancer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;

    private Balancer(Process process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        WebSocketAddress = new Uri($"ws://127.0.0.1:{port}/");
    }

    public HttpClient Http { get; }

    public Uri WebSocketAddress { get; }

    /// <param name="nodes">Stand-ins for node1, node2 and node3; one node may stand in for several.</param>
    public static async Task<Balancer> StartAsync(params NodeProcess[] nodes)
    {
        var directory = new TempDirectory();
        var port = FreePort();
        var config = NginxConfig.WriteCopy(directory, [.. nodes.Select(node => node.Http.BaseAddress!.Port)], port);
        var start = new ProcessStartInfo(NginxConfig.Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // In the foreground, so the test owns the process.
        foreach (var argument in NginxConfig.Arguments(directory, config, " daemon off;"))
            start.ArgumentList.Add(argument);
        var process = Process.Start(start)!;
        // The access log goes to stdout; drained so nginx never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var balancer = new Balancer(process, directory, port);
        await balancer.WaitHealthyAsync();
        return balancer;
    }

    private async Task WaitHealthyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            Assert.False(_process.HasExited, "nginx exited during start-up");
            try
            {
                using var response = await Http.GetAsync("/nginx-health");
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            Assert.True(DateTime.UtcNow < deadline, "nginx did not answer /nginx-health within 10 s");
            await Task.Delay(50);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            // The whole tree: nginx's workers outlive a killed master.
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _directory.Dispose();
    }
}
