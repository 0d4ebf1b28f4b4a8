namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>Rows for a <see cref="DuckDbRowFunction"/>, handed over a chunk at a time.</summary>
internal interface IDuckDbChunkSource
{
    /// <summary>
    /// Writes the next rows into <paramref name="chunk"/>, a <c>duckdb_data_chunk</c> DuckDB owns
    /// whose vectors hold <c>duckdb_vector_size()</c> rows.
    /// </summary>
    /// <returns>The rows written; 0 when there are no more.</returns>
    int Fill(IntPtr chunk);
}
