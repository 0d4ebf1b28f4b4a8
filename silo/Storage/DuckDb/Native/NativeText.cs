using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>Reads the C strings DuckDB returns.</summary>
internal static class NativeText
{
    public static string? Read(IntPtr text) => text == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(text);

    /// <summary>Reads a string DuckDB allocated for the caller, then frees it.</summary>
    public static string? ReadAndFree(IntPtr text)
    {
        try
        {
            return Read(text);
        }
        finally
        {
            if (text != IntPtr.Zero)
                NativeMethods.Helpers.Free(text);
        }
    }

    public static DuckDbException Error(IntPtr message, string fallback) => new(Read(message) ?? fallback);
}
