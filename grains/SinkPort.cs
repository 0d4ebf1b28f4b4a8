using Ingest.Contracts;

namespace Ingest.Grains;

/// <summary>One storage sink as a grain sees it: where its writes go and where its rows load from.</summary>
public sealed record SinkPort(StorageSinks Sink, IEventSink Writer, IStreamStore Store);
