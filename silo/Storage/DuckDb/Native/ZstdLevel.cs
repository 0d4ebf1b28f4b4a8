using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>
/// The level DuckDB compresses its ZSTD segments at, set through <c>libingest_zstd_level.so</c>
/// (<c>zstd_level.c</c>), which takes the place of DuckDB's own <c>ZSTD_defaultCLevel</c>. One
/// level serves the whole process (the database opened last sets it), except on a thread that
/// set its own with <see cref="TrySetForThisThread"/>.
/// </summary>
internal static partial class ZstdLevel
{
    /// <summary>The level DuckDB 1.5 compresses at by itself.</summary>
    public const int DuckDbDefault = 3;

    private const string Library = "libingest_zstd_level.so";
    private const int RtldNow = 0x2;
    private const int RtldGlobal = 0x100;

    private static readonly Lazy<bool> Loaded = new(Load);

    /// <summary>Whether the library is there to set the level with; without it DuckDB keeps <see cref="DuckDbDefault"/>.</summary>
    public static bool Available => Loaded.Value;

    /// <summary>How many times DuckDB has asked for the level since the process started: above zero once the substitution took.</summary>
    public static long Calls => Available ? LevelCalls() : 0;

    /// <summary>
    /// Sets the level DuckDB compresses at from now on. It must run before DuckDB first
    /// compresses in this process, which binds DuckDB's call for good; opening a database does it.
    /// </summary>
    /// <returns>False when the library is missing, and DuckDB compresses at <see cref="DuckDbDefault"/>.</returns>
    public static bool TrySet(int level)
    {
        if (!Available)
            return false;
        SetLevel(level);
        return true;
    }

    /// <summary>
    /// Sets the level of what DuckDB compresses on the calling thread from now on, whatever
    /// <see cref="TrySet"/> sets for the others. Work DuckDB hands to its own threads keeps theirs.
    /// </summary>
    /// <returns>False when the library is missing.</returns>
    public static bool TrySetForThisThread(int level)
    {
        if (!Available)
            return false;
        SetThreadLevel(level);
        return true;
    }

    /// <summary>
    /// Loads the library into the global scope, so that libduckdb.so's call finds its definition
    /// before DuckDB's own; the imports below then bind to that same loaded copy.
    /// </summary>
    private static bool Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, Library);
        return OperatingSystem.IsLinux() && File.Exists(path) && DlOpen(path, RtldNow | RtldGlobal) != IntPtr.Zero;
    }

    [LibraryImport("libc", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr DlOpen(string path, int flags);

    [LibraryImport(Library, EntryPoint = "ingest_zstd_set_level")]
    private static partial void SetLevel(int level);

    [LibraryImport(Library, EntryPoint = "ingest_zstd_set_thread_level")]
    private static partial void SetThreadLevel(int level);

    [LibraryImport(Library, EntryPoint = "ingest_zstd_level_calls")]
    private static partial long LevelCalls();
}
