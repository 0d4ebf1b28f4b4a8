using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>One storage sink as a grain sees it: where its writes go and where its rows load from.</summary>
/// <param name="Exclusive">
/// Only this node writes the sink (a DuckDB file, which one process at a time opens), so a live
/// activation already knows what the sink holds of its stream, and need not load it again when the
/// stream reopens. False for storage other nodes write too.
/// </param>
public sealed record SinkPort(StorageSinks Sink, IEventSink Writer, IStreamStore Store, bool Exclusive = false);
