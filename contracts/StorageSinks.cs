namespace Ingest.Contracts;

/// <summary>The storage a stream's events go to; a stream is acknowledged once all of them hold it.</summary>
[Flags]
public enum StorageSinks
{
    None = 0,
    DuckDb = 1,
    Postgres = 2,
}

public static class StorageSinkNames
{
    private static readonly (StorageSinks Sink, string Name)[] Names = [(StorageSinks.DuckDb, "duckdb"), (StorageSinks.Postgres, "postgres")];

    /// <summary>The names in the form <c>duckdb,postgres</c>, as stored in <c>streams.sinks</c>.</summary>
    public static string ToNames(this StorageSinks sinks) =>
        string.Join(',', Names.Where(n => sinks.HasFlag(n.Sink)).Select(n => n.Name));

    /// <summary>Parses a comma-separated list of sink names; false names the first unknown one.</summary>
    public static bool TryParse(string? names, out StorageSinks sinks, out string? unknown)
    {
        sinks = StorageSinks.None;
        unknown = null;
        foreach (var part in (names ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var match = Array.Find(Names, n => string.Equals(n.Name, part, StringComparison.OrdinalIgnoreCase));
            if (match.Name is null)
            {
                unknown = part;
                return false;
            }
            sinks |= match.Sink;
        }
        return true;
    }

    public static StorageSinks Parse(string names) =>
        TryParse(names, out var sinks, out var unknown)
            ? sinks
            : throw new FormatException($"Unknown sink '{unknown}'; the sinks are duckdb and postgres.");
}
