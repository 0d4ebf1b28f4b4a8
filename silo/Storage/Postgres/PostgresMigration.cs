namespace Ingest.Silo.Storage.Postgres;

/// <summary>One step of the schema, applied once per database and recorded in <c>schema_migrations</c>.</summary>
/// <param name="Version">Applied in ascending order; never reused or renumbered once released.</param>
public sealed record PostgresMigration(int Version, string Name, string Sql);
