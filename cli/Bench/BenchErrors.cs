using System.Collections.Concurrent;

namespace Ingest.Cli.Bench;

/// <summary>What went wrong during a run, kept short: the first few say what; thousands of the same would bury the table.</summary>
internal static class BenchErrors
{
    private const int Kept = 20;

    public static void Add(ConcurrentQueue<string> errors, string error)
    {
        if (errors.Count < Kept)
            errors.Enqueue(error);
    }

    public static string Shorten(string text)
    {
        text = text.Trim().Replace('\n', ' ');
        return text.Length <= 200 ? text : text[..200] + "...";
    }
}
