using Ingest.Grains;
using Ingest.Silo.Storage;
using Ingest.Silo.Storage.DuckDb.Sink;

namespace Ingest.Tests.Storage.DuckDb.Sink;

/// <summary>Flushes as the parts a commit stores when it stores each of them whole.</summary>
internal static class WholeFlushes
{
    public static List<FlushPart> Of(params StreamFlush[] flushes) =>
        [.. flushes.Select(flush => FlushPart.Next(new PendingFlush(flush, 0), long.MaxValue))];
}
