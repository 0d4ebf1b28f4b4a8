using System.Diagnostics;

namespace Ingest.Cli.Cluster;

/// <summary>Waits until a process just started answers <c>GET /healthz</c>, or says why it never will.</summary>
internal static class HealthProbe
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <param name="what">Names the process in errors: "node 2", "nginx".</param>
    public static async Task WaitAsync(Uri address, LoggedProcess process, string what, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        var healthz = new Uri(address, "/healthz");
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"{what} exited with {process.ExitCode} while starting; the end of {process.LogFile}:\n{process.Tail()}");
            try
            {
                using var response = await Http.GetAsync(healthz, cancellationToken);
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // This request timed out; the deadline decides.
            }
            if (waited.Elapsed > Timeout)
                throw new TimeoutException($"{what} did not answer {healthz} within {Timeout.TotalSeconds:F0} s; the end of {process.LogFile}:\n{process.Tail()}");
            await Task.Delay(100, cancellationToken);
        }
    }
}
