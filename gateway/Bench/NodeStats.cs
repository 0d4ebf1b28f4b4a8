using System.Diagnostics;
using Ingest.Silo.Storage.DuckDb;

namespace Ingest.Gateway.Bench;

/// <summary>What <c>GET /v1/node</c> answers: this process's resource use, for a benchmark to sample.</summary>
/// <param name="PeakRssBytes">The most resident memory the process has had (VmHWM).</param>
/// <param name="GcPauseSeconds">Time the process spent paused by the garbage collector.</param>
/// <param name="GcCollections">Collections of generations 0, 1 and 2.</param>
internal sealed record NodeStats(
    int Pid,
    double CpuSeconds,
    long RssBytes,
    long PeakRssBytes,
    long GcHeapBytes,
    double GcPauseSeconds,
    int[] GcCollections,
    int Threads,
    NodeSinkStats Sink)
{
    public static NodeStats Read(DuckDbEventSink sink, DuckDbDatabase database)
    {
        using var process = Process.GetCurrentProcess();
        var counters = sink.Counters;
        return new NodeStats(
            process.Id,
            process.TotalProcessorTime.TotalSeconds,
            process.WorkingSet64,
            process.PeakWorkingSet64,
            GC.GetTotalMemory(forceFullCollection: false),
            GC.GetTotalPauseDuration().TotalSeconds,
            [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)],
            process.Threads.Count,
            new NodeSinkStats(counters.Commits, counters.EventsWritten, counters.QueuedBytes, counters.Checkpoints, counters.CatchUpCheckpoints,
                database.ZstdLevel, database.CatchUpZstdLevel, DuckDbDatabase.ZstdLevelCalls));
    }
}

/// <summary>The DuckDB sink's counters since the node started.</summary>
/// <param name="ZstdLevel">The level DuckDB compresses at: <c>DuckDb:ZstdLevel</c>, or DuckDB's own 3 without the library that sets it.</param>
/// <param name="Checkpoints">Background checkpoints done.</param>
/// <param name="CatchUpCheckpoints">Of those, the ones that caught up (the node near its limit for long).</param>
/// <param name="CatchUpZstdLevel">The level the catch-up checkpoints compress at: <c>DuckDb:CatchUpZstdLevel</c>, or DuckDB's own 3 without the library.</param>
/// <param name="ZstdLevelCalls">How many times DuckDB has asked for a level; 0 until it first compresses, or without the library.</param>
internal sealed record NodeSinkStats(
    long Commits, long EventsWritten, long QueuedBytes, long Checkpoints, long CatchUpCheckpoints,
    int ZstdLevel, int CatchUpZstdLevel, long ZstdLevelCalls);
