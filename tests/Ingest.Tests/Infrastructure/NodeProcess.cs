using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Ingest.Tests.Infrastructure;

/// <summary>A node as its own process, for what only a process can show: signals and restarts.</summary>
internal sealed partial class NodeProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();
    private readonly List<(string Text, TaskCompletionSource Said)> _watches = [];

    private NodeProcess(Process process, int port)
    {
        _process = process;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        WebSocketAddress = new Uri($"ws://127.0.0.1:{port}/");
    }

    public HttpClient Http { get; }

    /// <summary>The last lines the node printed, for a failing test to show.</summary>
    public IReadOnlyCollection<string> Output => _output;

    public Uri WebSocketAddress { get; }

    public static async Task<NodeProcess> StartAsync(string databasePath, params string[] settings)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(databasePath)!,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Ingest.Gateway.dll"));
        start.ArgumentList.Add($"--urls=http://127.0.0.1:{port}");
        start.ArgumentList.Add($"--DuckDb:Path={databasePath}");
        foreach (var setting in settings)
            start.ArgumentList.Add(setting);
        var process = Process.Start(start)!;
        var node = new NodeProcess(process, port);
        process.OutputDataReceived += (_, line) => node.Keep(line.Data);
        process.ErrorDataReceived += (_, line) => node.Keep(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await node.WaitHealthyAsync();
        return node;
    }

    /// <summary>
    /// Completes once the node has printed a line containing <paramref name="text"/>: one still in
    /// <see cref="Output"/>, or any later one. Polling <see cref="Output"/> could miss a line that
    /// scrolled out of it between two looks.
    /// </summary>
    public Task WhenSaid(string text)
    {
        lock (_watches)
        {
            if (_output.Any(line => line.Contains(text, StringComparison.Ordinal)))
                return Task.CompletedTask;
            var said = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _watches.Add((text, said));
            return said.Task;
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
            return;
        lock (_watches)
        {
            _output.Enqueue(line);
            while (_output.Count > 400)
                _output.TryDequeue(out _);
            foreach (var (text, said) in _watches.Where(watch => line.Contains(watch.Text, StringComparison.Ordinal)).ToArray())
            {
                said.TrySetResult();
                _watches.Remove((text, said));
            }
        }
    }

    /// <summary>What systemd, Docker or Ctrl-C sends; returns the exit code.</summary>
    public Task<int> TerminateAsync()
    {
        SignalTerminate();
        return WaitForExitAsync();
    }

    /// <summary>SIGKILL: the node gets no chance to flush or say goodbye.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public void SignalTerminate() => Assert.Equal(0, Kill(_process.Id, SigTerm));

    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return _process.ExitCode;
    }

    private async Task WaitHealthyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.False(_process.HasExited, "the node exited during start-up");
            try
            {
                using var response = await Http.GetAsync("/healthz");
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            Assert.True(DateTime.UtcNow < deadline, "the node did not become healthy within 60 s");
            await Task.Delay(100);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
