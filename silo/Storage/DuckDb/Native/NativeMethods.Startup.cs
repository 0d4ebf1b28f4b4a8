using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

internal static partial class NativeMethods
{
    internal static partial class Startup
    {
        /// <remarks>On failure <paramref name="error"/> holds a message to release with <see cref="Helpers.Free"/>.</remarks>
        [LibraryImport(Library, EntryPoint = "duckdb_open_ext", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial DuckDbState Open(string path, out DuckDbDatabaseHandle database, DuckDbConfigHandle config, out IntPtr error);

        [LibraryImport(Library, EntryPoint = "duckdb_close")]
        internal static partial void Close(ref IntPtr database);

        [LibraryImport(Library, EntryPoint = "duckdb_connect")]
        internal static partial DuckDbState Connect(DuckDbDatabaseHandle database, out DuckDbConnectionHandle connection);

        [LibraryImport(Library, EntryPoint = "duckdb_disconnect")]
        internal static partial void Disconnect(ref IntPtr connection);

        /// <summary>Stops the query running on the connection; safe to call from another thread.</summary>
        [LibraryImport(Library, EntryPoint = "duckdb_interrupt")]
        internal static partial void Interrupt(DuckDbConnectionHandle connection);

        [LibraryImport(Library, EntryPoint = "duckdb_library_version")]
        internal static partial IntPtr LibraryVersion();
    }
}
