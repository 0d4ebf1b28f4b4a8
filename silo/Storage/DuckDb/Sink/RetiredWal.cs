using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// A second name (a hard link) for the WAL while it is checkpointed. At its end a checkpoint
/// replaces the WAL, under the lock every commit needs; with a second name, replacing it only drops
/// a name, and <see cref="Free"/> frees the file afterwards, outside that lock. DuckDB never reads
/// the name; one left by a crash is removed when the next one is made.
/// </summary>
/// <remarks>
/// Freeing a 32 MiB file in one go kept the disk from the writer's fsyncs for as long as it took:
/// on this machine's ext4 (mounted with <c>discard</c>) a small fsync beside the unlink of such a
/// file waited 7–8 ms at the median, and beside the same file shrunk a mebibyte at a time 0.5 ms;
/// in a node under load, the commits beside one 29 ms unlink took 31–32 ms.
/// </remarks>
internal sealed partial class RetiredWal
{
    public const string Suffix = ".retired";

    /// <summary>How much of the old WAL each step of <see cref="Free"/> gives back.</summary>
    public const long FreeStep = 1024 * 1024;

    // Between steps, so that the writer's fsyncs get to the disk.
    private static readonly TimeSpan FreePause = TimeSpan.FromMilliseconds(1);

    // ENOENT: no WAL yet, or DuckDB's own checkpoint removed it just now; nothing to name.
    private const int NoSuchFile = 2;

    // statx(2): the current directory for a relative path, and the link count asked for.
    private const int AtCurrentDirectory = -100;
    private const uint StatxLinkCount = 0x4;
    private const int StatxSize = 256;
    private const int StatxMaskOffset = 0;
    private const int StatxLinkCountOffset = 16;

    private readonly string _wal;
    private bool _usable = !OperatingSystem.IsWindows();
    private bool _canShrink = OperatingSystem.IsLinux();

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

    /// <summary>
    /// Drops the second name. If DuckDB has replaced the WAL meanwhile, this frees the old one, a
    /// step at a time; while the name is still the live WAL's too (a checkpoint that failed, or a
    /// crash before its end), only the name goes.
    /// </summary>
    public void Free()
    {
        if (_canShrink && IsLastName())
            Shrink();
        File.Delete(Path);
    }

    private void Shrink()
    {
        try
        {
            using var file = File.OpenHandle(Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            for (var length = RandomAccess.GetLength(file) - FreeStep; length > 0; length -= FreeStep)
            {
                RandomAccess.SetLength(file, length);
                Thread.Sleep(FreePause);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Gone meanwhile, or not ours to shrink: the delete below frees what is left at once.
        }
    }

    /// <summary>Whether the second name is the file's only name: DuckDB has let go of it.</summary>
    private unsafe bool IsLastName()
    {
        var buffer = stackalloc byte[StatxSize];
        try
        {
            if (Statx(AtCurrentDirectory, Path, 0, StatxLinkCount, buffer) != 0)
                return false;
        }
        catch (EntryPointNotFoundException)
        {
            // A libc without statx(2): freeing at once, as before.
            _canShrink = false;
            return false;
        }
        return (*(uint*)(buffer + StatxMaskOffset) & StatxLinkCount) != 0 && *(uint*)(buffer + StatxLinkCountOffset) == 1;
    }

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string existing, string added);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);
}
