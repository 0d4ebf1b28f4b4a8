namespace Ingest.Silo.Storage.Analytics;

/// <summary>File steps whose order matters for crash safety.</summary>
internal static class DurableFile
{
    /// <summary>
    /// fsync: DuckDB closes what it writes without forcing it to disk, and a row naming a file
    /// must never commit before the file's bytes are durable.
    /// </summary>
    public static void Flush(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Flushes <paramref name="source"/> and renames it over <paramref name="destination"/>: a
    /// reader sees the old file or the new one, never half of either, and one that has the old
    /// one open keeps reading it.
    /// </summary>
    public static void Replace(string source, string destination)
    {
        Flush(source);
        File.Move(source, destination, overwrite: true);
    }

    /// <summary>Deletes the file; true if it was there.</summary>
    public static bool Delete(string path)
    {
        try
        {
            if (!File.Exists(path))
                return false;
            File.Delete(path);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }
}
