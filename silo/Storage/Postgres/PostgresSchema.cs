using System.Globalization;

namespace Ingest.Silo.Storage.Postgres;

/// <summary>
/// The tables the storage owns, as an ordered list of migrations, and the names and lock keys
/// shared by everything that touches them.
/// </summary>
public static class PostgresSchema
{
    public const string EventsTable = "events";
    public const string StreamsTable = "streams";
    public const string AnalyticsStreamsTable = "analytics_streams";
    public const string SegmentsTable = "segments";

    // Advisory lock keys. The one-key form serialises whole tasks across nodes; the two-key form,
    // in a space of its own, serialises the creation of one day's partition.
    internal const long MigrationLock = 0x696E_6765_7374_0001;
    internal const long RetentionLock = 0x696E_6765_7374_0002;

    /// <summary>Held for as long as a node is the one compacting and publishing the analytics catalog.</summary>
    public const long AnalyticsMaintenanceLock = 0x696E_6765_7374_0003;

    /// <summary>The class of the two-key locks that make one stream's writes from several nodes take turns.</summary>
    public const int StreamLockClass = 0x7374_726D;
    internal const int PartitionLockClass = 0x696E_6765;

    private const string PartitionPrefix = "events_";
    private const string PartitionDayFormat = "yyyyMMdd";

    /// <summary>Every migration, in the order they apply. Add to the end; never edit a released one.</summary>
    public static IReadOnlyList<PostgresMigration> Migrations { get; } =
    [
        new(1, "streams and day-partitioned events", """
            CREATE TABLE streams (
              id text PRIMARY KEY, transport text NOT NULL, remote_addr text, headers jsonb NOT NULL,
              opened_at timestamptz NOT NULL, closed_at timestamptz,
              events bigint NOT NULL, bytes bigint NOT NULL, rejected bigint NOT NULL, duplicates bigint NOT NULL,
              sinks text NOT NULL, updated_at timestamptz NOT NULL);
            -- Retention deletes rows of streams idle past the cutoff.
            CREATE INDEX streams_updated_at ON streams (updated_at);
            -- One partition per UTC day, created as writes need them, so retention drops whole
            -- days instead of deleting rows.
            CREATE TABLE events (
              stream_id text NOT NULL, seq bigint NOT NULL, received_at timestamptz NOT NULL, payload jsonb NOT NULL)
              PARTITION BY RANGE (received_at);
            CREATE INDEX events_stream_seq ON events (stream_id, seq);
            """),
        new(2, "catalog of the shared analytics storage", """
            -- Parquet segments under the shared analytics directory. A segment is visible once its
            -- row commits, and gone once retired: readers take the list from here, never from a glob.
            CREATE TABLE segments (
              id uuid PRIMARY KEY, path text NOT NULL UNIQUE, events bigint NOT NULL, bytes bigint NOT NULL,
              min_received_at timestamptz NOT NULL, max_received_at timestamptz NOT NULL,
              level int NOT NULL, created_by text NOT NULL, created_at timestamptz NOT NULL,
              retired_at timestamptz);
            CREATE INDEX segments_live ON segments (level, created_at) WHERE retired_at IS NULL;
            -- What the segments hold of each stream, written in the same transaction as the segment.
            CREATE TABLE analytics_streams (
              id text PRIMARY KEY, transport text NOT NULL, remote_addr text, headers jsonb NOT NULL,
              opened_at timestamptz NOT NULL, closed_at timestamptz,
              events bigint NOT NULL, bytes bigint NOT NULL, rejected bigint NOT NULL, duplicates bigint NOT NULL,
              sinks text NOT NULL, updated_at timestamptz NOT NULL);
            -- The streams snapshot the catalog publisher wrote last (one row).
            CREATE TABLE analytics_catalog (
              id int PRIMARY KEY CHECK (id = 1), generation bigint NOT NULL, streams_path text, published_at timestamptz NOT NULL);
            """),
    ];

    /// <summary>The partition of <c>events</c> holding <paramref name="day"/>, e.g. <c>events_20261121</c>.</summary>
    public static string PartitionName(DateOnly day) =>
        PartitionPrefix + day.ToString(PartitionDayFormat, CultureInfo.InvariantCulture);

    /// <summary>The day a partition holds, read back from its name; false for any other table.</summary>
    public static bool TryParsePartition(string name, out DateOnly day)
    {
        day = default;
        return name.StartsWith(PartitionPrefix, StringComparison.Ordinal)
            && DateOnly.TryParseExact(
                name.AsSpan(PartitionPrefix.Length), PartitionDayFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out day);
    }

    /// <summary>The UTC day an event received at <paramref name="time"/> belongs to.</summary>
    public static DateOnly DayOf(DateTimeOffset time) => DateOnly.FromDateTime(time.UtcDateTime);

    /// <summary>The statement that creates a day's partition; safe to run when it exists.</summary>
    internal static string CreatePartition(DateOnly day)
    {
        var from = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var to = day.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return $"CREATE TABLE IF NOT EXISTS {PartitionName(day)} PARTITION OF {EventsTable} " +
            $"FOR VALUES FROM ('{from} 00:00:00+00') TO ('{to} 00:00:00+00')";
    }

    /// <summary>The key that serialises creating <paramref name="day"/>'s partition across nodes.</summary>
    internal static int PartitionLockKey(DateOnly day) => (day.Year * 10000) + (day.Month * 100) + day.Day;
}
