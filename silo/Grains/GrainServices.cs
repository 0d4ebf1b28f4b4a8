using Ingest.Grains;
using Microsoft.Extensions.Logging;

namespace Ingest.Silo.Grains;

/// <summary>What every stream activation is built from.</summary>
internal sealed record GrainServices(
    IReadOnlyList<SinkPort> Sinks,
    IStreamNotifier Notifier,
    FlushOptions Flush,
    TimeProvider Time,
    ILogger Logger);
