namespace Ingest.Tests.Infrastructure;

/// <summary>What runs on this machine, from <c>/proc</c>.</summary>
internal static class ProcessTable
{
    /// <summary>Whether the process exists and has not exited; an exited one waits a moment for its parent to reap it.</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            // "pid (name) S ...": the state follows the name, which may hold spaces and parentheses.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Processes whose command line mentions <paramref name="text"/>, such as a data directory they were given.</summary>
    public static IReadOnlyList<string> Mentioning(string text)
    {
        var found = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId)
                continue;
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(text, StringComparison.Ordinal))
                    found.Add($"{pid}: {commandLine}");
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return found;
    }
}
