namespace Ingest.Silo.Storage.DuckDb;

/// <summary>How <see cref="DuckDbQueryService"/> writes rows.</summary>
public enum QueryResultFormat
{
    /// <summary>One JSON array of row objects; JSON columns are embedded as JSON.</summary>
    Json,

    /// <summary>RFC 4180: a header row, CRLF line ends, NULL as an empty field.</summary>
    Csv,

    /// <summary>One row object per line.</summary>
    Ndjson,
}
