using Ingest.Contracts;
using Ingest.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace Ingest.Gateway.Ingest;

/// <summary>The sinks this deployment writes to, which a stream may narrow but not widen.</summary>
internal sealed class SinkSelection(IOptions<SiloOptions> silo)
{
    public StorageSinks Deployed { get; } = StorageSinkNames.Parse(silo.Value.Sinks);
}
