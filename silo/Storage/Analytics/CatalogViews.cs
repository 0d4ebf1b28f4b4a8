using System.Text;

namespace Ingest.Silo.Storage.Analytics;

/// <summary>
/// The SQL that turns a <see cref="CatalogSnapshot"/> into the <c>events</c> and <c>streams</c>
/// views, over the listed Parquet files and nothing else: never a glob, which would also find
/// orphans and retired files.
/// </summary>
public static class CatalogViews
{
    // Typed and empty: read_parquet refuses an empty list, and a view must exist all the same.
    private const string NoEvents =
        "SELECT CAST(NULL AS VARCHAR) AS stream_id, CAST(NULL AS BIGINT) AS seq, " +
        "CAST(NULL AS TIMESTAMPTZ) AS received_at, CAST(NULL AS JSON) AS payload WHERE false";

    private const string NoStreams =
        "SELECT CAST(NULL AS VARCHAR) AS id, CAST(NULL AS VARCHAR) AS transport, CAST(NULL AS VARCHAR) AS remote_addr, " +
        "CAST(NULL AS JSON) AS headers, CAST(NULL AS TIMESTAMPTZ) AS opened_at, CAST(NULL AS TIMESTAMPTZ) AS closed_at, " +
        "CAST(NULL AS BIGINT) AS events, CAST(NULL AS BIGINT) AS bytes, CAST(NULL AS BIGINT) AS rejected, " +
        "CAST(NULL AS BIGINT) AS duplicates, CAST(NULL AS VARCHAR) AS sinks WHERE false";

    private const string EventColumns = "stream_id, seq, received_at, payload";
    private const string StreamColumns = "id, transport, remote_addr, headers, opened_at, closed_at, events, bytes, rejected, duplicates, sinks";

    /// <summary>
    /// <c>CREATE OR REPLACE [TEMP] VIEW events AS ...; CREATE OR REPLACE [TEMP] VIEW streams AS ...;</c>
    /// with absolute paths under <paramref name="sharedDirectory"/>.
    /// </summary>
    public static string CreateViews(CatalogSnapshot snapshot, string sharedDirectory, bool temporary)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentException.ThrowIfNullOrWhiteSpace(sharedDirectory);
        var create = temporary ? "CREATE OR REPLACE TEMP VIEW" : "CREATE OR REPLACE VIEW";
        var sql = new StringBuilder();
        sql.Append(create).Append(" events AS ");
        if (snapshot.SegmentPaths.Count == 0)
            sql.Append(NoEvents);
        else
            sql.Append(Select(EventColumns, DuckDbSql.List(snapshot.SegmentPaths.Select(p => SharedLayout.Absolute(sharedDirectory, p)))));
        sql.Append(";\n").Append(create).Append(" streams AS ");
        if (snapshot.StreamsPath is null)
            sql.Append(NoStreams);
        else
            sql.Append(Select(StreamColumns, DuckDbSql.Literal(SharedLayout.Absolute(sharedDirectory, snapshot.StreamsPath))));
        return sql.Append(";\n").ToString();
    }

    // Columns by name, and no hive partitioning: the date=YYYY-MM-DD folders would otherwise
    // add a fifth column, "date", to every reader's events.
    private static string Select(string columns, string files) =>
        $"SELECT {columns} FROM read_parquet({files}, hive_partitioning = false)";
}
