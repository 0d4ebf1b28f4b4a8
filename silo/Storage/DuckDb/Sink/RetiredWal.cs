using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// A second name (a hard link) for the WAL while it is checkpointed. At its end a checkpoint
/// replaces the WAL, under the lock every commit needs; with a second name, replacing it only drops
/// a name, and <see cref="Free"/> frees the file afterwards, outside that lock. DuckDB never reads
/// the name; one left by a crash is removed when the next one is made.
/// </summary>
internal sealed partial class RetiredWal
{
    public const string Suffix = ".retired";

    // ENOENT: no WAL yet, or DuckDB's own checkpoint removed it just now; nothing to name.
    private const int NoSuchFile = 2;

    private readonly string _wal;
    private bool _usable = !OperatingSystem.IsWindows();

    /// <summary>Removes a second name left by an earlier process.</summary>
    public RetiredWal(string walPath)
    {
        _wal = walPath;
        Path = walPath + Suffix;
        Free();
    }

    public string Path { get; }

    /// <summary>Gives the WAL its second name, if there is a WAL and hard links work here.</summary>
    /// <returns>Why the link failed, the first time it does; it is not tried again after.</returns>
    public string? Keep()
    {
        if (!_usable)
            return null;
        Free();
        if (Link(_wal, Path) == 0 || Marshal.GetLastPInvokeError() == NoSuchFile)
            return null;
        _usable = false;
        return Marshal.GetLastPInvokeErrorMessage();
    }

    /// <summary>Drops the second name; if DuckDB has replaced the WAL meanwhile, this frees the old one.</summary>
    public void Free() => File.Delete(Path);

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string existing, string added);
}
