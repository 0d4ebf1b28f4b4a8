namespace Ingest.Silo.Storage.Analytics;

/// <summary>What one round of the <see cref="FileCollector"/> deleted.</summary>
internal sealed record CollectedFiles(int RetiredSegments, int Orphans, int StreamsSnapshots, int TempFiles)
{
    public int Total => RetiredSegments + Orphans + StreamsSnapshots + TempFiles;
}
