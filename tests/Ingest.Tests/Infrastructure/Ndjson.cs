using System.Text;

namespace Ingest.Tests.Infrastructure;

/// <summary>Realistic wide events, each different, as a user's service would send them.</summary>
internal static class Ndjson
{
    private static readonly string[] Levels = ["INFO", "DEBUG", "WARN", "ERROR"];
    private static readonly string[] Handlers = ["Transfer", "Balance", "Mint", "Burn"];

    public static string Event(int i) =>
        $$$"""{"time":"2026-11-21T12:{{{i / 60 % 60:00}}}:{{{i % 60:00}}}Z","level":"{{{Levels[i % 4]}}}","msg":"event {{{i}}}","handler":"{{{Handlers[i % 3]}}}","quantity":{{{i % 1000}}},"nonce":{{{i}}},"tags":["a","b"],"ctx":{"user":"u{{{i % 97}}}","ok":{{{(i % 5 != 0 ? "true" : "false")}}}}}""";

    public static List<string> Events(int count) => Enumerable.Range(1, count).Select(Event).ToList();

    public static byte[] Body(IEnumerable<string> events)
    {
        var text = new StringBuilder();
        foreach (var line in events)
            text.Append(line).Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
