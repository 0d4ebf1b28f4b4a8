namespace Ingest.Tests.Infrastructure;

/// <summary>
/// Tests of the cli's cluster, which start PostgreSQL servers, node processes and nginx of their
/// own: they run one after another and apart from every other test, so their start-up and
/// failover timings don't compete with the PostgreSQL-heavy tests for the machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "Cluster";
}
