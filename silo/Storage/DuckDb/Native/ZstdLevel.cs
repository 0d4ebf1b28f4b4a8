using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>
/// The level DuckDB compresses its ZSTD segments at, set through <c>libingest_zstd_level.so</c>
/// (<c>zstd_level.c</c>), which takes the place of DuckDB's own <c>ZSTD_defaultCLevel</c>. One
/// level serves the whole process: the database opened last sets it.
/// </summary>
internal static unsafe partial class ZstdLevel
{
    /// <summary>The level DuckDB 1.5 compresses at by itself.</summary>
    public const int DuckDbDefault = 3;

    private const string Library = "libingest_zstd_level.so";
    private const int RtldNow = 0x2;
    private const int RtldGlobal = 0x100;

    private static readonly Lazy<Shim?> Loaded = new(Load);

    /// <summary>Whether the library is there to set the level with; without it DuckDB keeps <see cref="DuckDbDefault"/>.</summary>
    public static bool Available => Loaded.Value is not null;

    /// <summary>How many times DuckDB has asked for the level since the process started: above zero once the substitution took.</summary>
    public static long Calls => Loaded.Value is { } shim ? shim.Calls() : 0;

    /// <summary>
    /// Sets the level DuckDB compresses at from now on. It must run before DuckDB first
    /// compresses in this process, which binds DuckDB's call for good; opening a database does it.
    /// </summary>
    /// <returns>False when the library is missing, and DuckDB compresses at <see cref="DuckDbDefault"/>.</returns>
    public static bool TrySet(int level)
    {
        if (Loaded.Value is not { } shim)
            return false;
        shim.SetLevel(level);
        return true;
    }

    private static Shim? Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, Library);
        if (!OperatingSystem.IsLinux() || !File.Exists(path))
            return null;
        // Global, so that libduckdb.so's call finds this definition before its own.
        var handle = DlOpen(path, RtldNow | RtldGlobal);
        if (handle == IntPtr.Zero)
            return null;
        return new Shim(
            (delegate* unmanaged<int, void>)NativeLibrary.GetExport(handle, "ingest_zstd_set_level"),
            (delegate* unmanaged<long>)NativeLibrary.GetExport(handle, "ingest_zstd_level_calls"));
    }

    [LibraryImport("libc", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr DlOpen(string path, int flags);

    private sealed class Shim(delegate* unmanaged<int, void> setLevel, delegate* unmanaged<long> calls)
    {
        public void SetLevel(int level) => setLevel(level);

        public long Calls() => calls();
    }
}
