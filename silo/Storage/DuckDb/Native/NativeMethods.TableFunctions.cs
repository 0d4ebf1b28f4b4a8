using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

internal static partial class NativeMethods
{
    /// <summary>Table functions whose rows come from managed callbacks.</summary>
    internal static unsafe partial class TableFunctions
    {
        [LibraryImport(Library, EntryPoint = "duckdb_create_table_function")]
        internal static partial IntPtr Create();

        [LibraryImport(Library, EntryPoint = "duckdb_destroy_table_function")]
        internal static partial void Destroy(ref IntPtr function);

        [LibraryImport(Library, EntryPoint = "duckdb_table_function_set_name", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial void SetName(IntPtr function, string name);

        /// <param name="destroy">Called with <paramref name="extraInfo"/> when the function is dropped.</param>
        [LibraryImport(Library, EntryPoint = "duckdb_table_function_set_extra_info")]
        internal static partial void SetExtraInfo(IntPtr function, IntPtr extraInfo, delegate* unmanaged<IntPtr, void> destroy);

        [LibraryImport(Library, EntryPoint = "duckdb_table_function_add_parameter")]
        internal static partial void AddParameter(IntPtr function, DuckDbLogicalTypeHandle type);

        [LibraryImport(Library, EntryPoint = "duckdb_table_function_set_bind")]
        internal static partial void SetBind(IntPtr function, delegate* unmanaged<IntPtr, void> bind);

        [LibraryImport(Library, EntryPoint = "duckdb_table_function_set_init")]
        internal static partial void SetInit(IntPtr function, delegate* unmanaged<IntPtr, void> init);

        /// <param name="scan">Called with the function info and the output chunk until it leaves the chunk empty.</param>
        [LibraryImport(Library, EntryPoint = "duckdb_table_function_set_function")]
        internal static partial void SetFunction(IntPtr function, delegate* unmanaged<IntPtr, IntPtr, void> scan);

        /// <remarks>The catalog keeps its own copy; the function handle is destroyed either way.</remarks>
        [LibraryImport(Library, EntryPoint = "duckdb_register_table_function")]
        internal static partial DuckDbState Register(DuckDbConnectionHandle connection, IntPtr function);

        [LibraryImport(Library, EntryPoint = "duckdb_bind_get_extra_info")]
        internal static partial IntPtr BindExtraInfo(IntPtr info);

        /// <returns>A <c>duckdb_value</c> to destroy with <see cref="DestroyValue"/>.</returns>
        [LibraryImport(Library, EntryPoint = "duckdb_bind_get_parameter")]
        internal static partial IntPtr BindParameter(IntPtr info, ulong index);

        [LibraryImport(Library, EntryPoint = "duckdb_get_int64")]
        internal static partial long ValueInt64(IntPtr value);

        [LibraryImport(Library, EntryPoint = "duckdb_destroy_value")]
        internal static partial void DestroyValue(ref IntPtr value);

        [LibraryImport(Library, EntryPoint = "duckdb_bind_add_result_column", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial void AddResultColumn(IntPtr info, string name, DuckDbLogicalTypeHandle type);

        [LibraryImport(Library, EntryPoint = "duckdb_bind_set_error", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial void SetBindError(IntPtr info, string error);

        [LibraryImport(Library, EntryPoint = "duckdb_init_set_max_threads")]
        internal static partial void SetMaxThreads(IntPtr info, ulong threads);

        [LibraryImport(Library, EntryPoint = "duckdb_function_get_extra_info")]
        internal static partial IntPtr FunctionExtraInfo(IntPtr info);

        [LibraryImport(Library, EntryPoint = "duckdb_function_set_error", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial void SetFunctionError(IntPtr info, string error);
    }
}
