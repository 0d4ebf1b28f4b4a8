using System.Globalization;

namespace Ingest.Cli.Bench;

/// <summary>This process's limit on open files (<c>ulimit -n</c>); a node started from here inherits it.</summary>
internal static class FileLimit
{
    /// <summary>The soft limit, or null where <c>/proc/self/limits</c> does not say.</summary>
    public static long? Read()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal))
                    continue;
                var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : null;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }
}
