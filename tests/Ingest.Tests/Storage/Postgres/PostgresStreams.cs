using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Tests.Storage.DuckDb;

namespace Ingest.Tests.Storage.Postgres;

/// <summary>Streams as a grain opens them when PostgreSQL is their sink; flushes come from <see cref="TestStreams"/>.</summary>
internal static class PostgresStreams
{
    public static StreamState NewStream(string? remoteAddress = "10.0.0.7", StreamTransport transport = StreamTransport.WebSocket) =>
        TestStreams.Opened(remoteAddress, transport) with { Sinks = StorageSinks.Postgres };
}
