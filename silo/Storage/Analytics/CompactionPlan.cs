namespace Ingest.Silo.Storage.Analytics;

/// <summary>The segments one compaction merges, and the segment it makes of them.</summary>
/// <param name="File">The output's absolute path.</param>
internal sealed record CompactionPlan(IReadOnlyList<SegmentRow> Inputs, SegmentRow Output, string File);
