namespace Ingest.Silo.Storage.Analytics;

/// <summary>The time as the catalog stores it.</summary>
internal static class CatalogTime
{
    /// <summary>
    /// Now, to the microsecond: PostgreSQL keeps no finer, and a time written and read back
    /// must compare equal to the one in memory.
    /// </summary>
    public static DateTimeOffset Now(TimeProvider time)
    {
        var ticks = time.GetUtcNow().UtcTicks;
        return new DateTimeOffset(ticks - (ticks % 10), TimeSpan.Zero);
    }
}
