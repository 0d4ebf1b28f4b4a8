namespace Ingest.Silo.Storage.Analytics;

/// <summary>How a compaction round ended.</summary>
internal enum CompactionOutcome
{
    /// <summary>No level has more live segments than the threshold.</summary>
    NothingToDo,

    /// <summary>The inputs were retired and the merged segment is live.</summary>
    Compacted,

    /// <summary>Another compactor retired some of the inputs first; the merged file was deleted.</summary>
    Superseded,
}
