using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

internal static partial class NativeMethods
{
    /// <summary>Vectors belong to their chunk, so they travel as raw pointers.</summary>
    internal static partial class Vector
    {
        [LibraryImport(Library, EntryPoint = "duckdb_vector_get_data")]
        internal static unsafe partial void* Data(IntPtr vector);

        /// <returns>The validity bit mask, or null when every row is valid.</returns>
        [LibraryImport(Library, EntryPoint = "duckdb_vector_get_validity")]
        internal static unsafe partial ulong* Validity(IntPtr vector);

        /// <summary>Allocates the validity mask, so that <see cref="Validity"/> is never null and rows can be set NULL.</summary>
        [LibraryImport(Library, EntryPoint = "duckdb_vector_ensure_validity_writable")]
        internal static partial void EnsureValidityWritable(IntPtr vector);

        /// <summary>Copies the bytes into the vector's string heap (or inline when at most 12 bytes).</summary>
        [LibraryImport(Library, EntryPoint = "duckdb_vector_assign_string_element_len")]
        internal static unsafe partial void AssignStringElement(IntPtr vector, ulong index, byte* value, ulong length);

        /// <summary>
        /// As <see cref="AssignStringElement"/>, for bytes the caller knows are valid UTF-8: DuckDB
        /// skips its own check, which was 6% of the sink writer's time. Invalid bytes would fail
        /// the whole commit later, when DuckDB updates the column's statistics.
        /// </summary>
        [LibraryImport(Library, EntryPoint = "duckdb_unsafe_vector_assign_string_element_len")]
        internal static unsafe partial void AssignValidStringElement(IntPtr vector, ulong index, byte* value, ulong length);
    }
}
