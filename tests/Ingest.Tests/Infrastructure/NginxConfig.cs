using System.Text.RegularExpressions;

namespace Ingest.Tests.Infrastructure;

/// <summary>
/// deploy/nginx.conf made to run outside Docker. nginx resolves upstream hostnames when it loads
/// its configuration, so node1..node3 become loopback ports; the pid file and temporary files go
/// to the test's directory rather than /run and /var/lib/nginx.
/// </summary>
internal static partial class NginxConfig
{
    private static readonly string[] TempPaths = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"];

    public static string Source { get; } = Path.Combine(Repository.Root, "deploy", "nginx.conf");

    /// <summary>Where Debian installs it; /usr/sbin is not on a non-root user's PATH.</summary>
    public static string Binary => File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";

    /// <summary>Writes the copy to <paramref name="directory"/>; returns its path.</summary>
    /// <param name="nodePorts">The loopback ports of node1, node2 and node3, in that order.</param>
    public static string WriteCopy(TempDirectory directory, IReadOnlyList<int> nodePorts, int listenPort)
    {
        var text = File.ReadAllText(Source);
        var servers = 0;
        text = UpstreamServer().Replace(text, match =>
        {
            servers++;
            return "server 127.0.0.1:" + nodePorts[int.Parse(match.Groups[1].Value) - 1];
        });
        Assert.Equal(nodePorts.Count, servers);
        text = Listen().Replace(text, $"listen 127.0.0.1:{listenPort};", 1);
        var temp = string.Concat(TempPaths.Select(kind => $"    {kind}_temp_path {directory.File(kind + "_temp")};\n"));
        text = Http().Replace(text, "http {\n" + temp, 1);

        var path = directory.File("nginx.conf");
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>The command line for the copy: its prefix, and errors before it is read to stderr.</summary>
    public static string[] Arguments(TempDirectory directory, string config, string globals = "") =>
        ["-p", directory.Path, "-c", config, "-e", "stderr", "-g", $"pid {directory.File("nginx.pid")};{globals}"];

    [GeneratedRegex(@"server node(\d+):4318")]
    private static partial Regex UpstreamServer();

    [GeneratedRegex(@"listen 4318;")]
    private static partial Regex Listen();

    [GeneratedRegex(@"^http \{\n", RegexOptions.Multiline)]
    private static partial Regex Http();
}
