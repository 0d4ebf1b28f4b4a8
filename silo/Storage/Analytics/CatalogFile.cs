using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.Analytics;

/// <summary>
/// Writes <c>catalog.duckdb</c>: a DuckDB file holding only the <c>events</c> and <c>streams</c>
/// views, so any DuckDB client can open it read-only and query everything. It is built under a
/// name of its own and renamed over the old one, never written in place: a reader that opened
/// the old file keeps a consistent snapshot.
/// </summary>
internal static class CatalogFile
{
    private const string Alias = "publish";

    /// <summary>Replaces <c>&lt;shared&gt;/catalog.duckdb</c> with views over <paramref name="snapshot"/>.</summary>
    /// <param name="duckDb">A connection to an in-memory database allowed into the shared directory.</param>
    public static void Write(DuckDbConnection duckDb, CatalogSnapshot snapshot, string sharedDirectory)
    {
        var target = SharedLayout.Absolute(sharedDirectory, SharedLayout.CatalogFile);
        // In catalog/, not next to the target: a half-written file there is the collector's to remove.
        var temp = SharedLayout.TempPathFor(SharedLayout.Absolute(sharedDirectory, $"{SharedLayout.CatalogDirectory}/{SharedLayout.CatalogFile}"));
        Directory.CreateDirectory(Path.GetDirectoryName(temp)!);
        try
        {
            // Attached from the in-memory database, which already may read the shared directory:
            // creating a view binds it, and that reads the Parquet files' schemas.
            duckDb.Execute($"ATTACH {DuckDbSql.Literal(temp)} AS {Alias}; USE {Alias};");
            try
            {
                duckDb.Execute(CatalogViews.CreateViews(snapshot, sharedDirectory, temporary: false));
            }
            finally
            {
                // Detaching checkpoints and closes the file, leaving no WAL beside it.
                duckDb.Execute($"USE memory; DETACH {Alias};");
            }
            DurableFile.Replace(temp, target);
        }
        catch
        {
            DurableFile.Delete(temp);
            DurableFile.Delete(temp + ".wal");
            throw;
        }
    }
}
