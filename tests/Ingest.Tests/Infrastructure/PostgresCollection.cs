namespace Ingest.Tests.Infrastructure;

/// <summary>Test classes that share one throwaway PostgreSQL server; they run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}
