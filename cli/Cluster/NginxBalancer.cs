namespace Ingest.Cli.Cluster;

/// <summary>
/// The cluster's load balancer: nginx in the foreground as a child process, with its config, pid,
/// temp files and error log in a directory of its own.
/// </summary>
public sealed class NginxBalancer
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly LoggedProcess _process;

    private NginxBalancer(string directory, int port, LoggedProcess process)
    {
        Directory = directory;
        Port = port;
        _process = process;
    }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    public string Directory { get; }

    public string ConfigFile => Path.Combine(Directory, "nginx.conf");

    /// <summary>nginx's error log, and anything it printed.</summary>
    public string ErrorLog => Path.Combine(Directory, "error.log");

    public int ProcessId => _process.Id;

    public bool IsRunning => !_process.HasExited;

    /// <summary>Writes the config, starts nginx and waits until a node answers <c>/healthz</c> through it.</summary>
    internal static async Task<NginxBalancer> StartAsync(string directory, int port, IEnumerable<int> nodePorts, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "temp"));
        var config = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(config, NginxConfig.Render(port, nodePorts), cancellationToken);
        var errorLog = Path.Combine(directory, "error.log");
        // The prefix ends in a slash: nginx joins it to the config's relative paths as it is.
        var process = LoggedProcess.Start(
            FindNginx(),
            ["-p", Path.TrimEndingDirectorySeparator(directory) + "/", "-c", config, "-e", errorLog, "-g", "daemon off;"],
            directory,
            errorLog);
        var balancer = new NginxBalancer(directory, port, process);
        try
        {
            await HealthProbe.WaitAsync(balancer.Address, process, "nginx", cancellationToken);
            return balancer;
        }
        catch
        {
            await balancer.StopAsync();
            throw;
        }
    }

    /// <summary>SIGQUIT, nginx's graceful shutdown; SIGKILL if it is still running after 30 s.</summary>
    internal async Task StopAsync()
    {
        _process.Quit();
        if (!await _process.WaitForExitAsync(StopTimeout))
        {
            _process.Kill();
            await _process.WaitForExitAsync(Timeout.InfiniteTimeSpan);
        }
    }

    private static string FindNginx() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin")
            .Select(d => Path.Combine(d, "nginx"))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("nginx was not found: install it (apt-get install nginx-light) or put it on PATH.");
}
