using System.Runtime.InteropServices;

namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary><c>duckdb_timestamp</c>: microseconds since 1970-01-01 UTC.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct DuckDbTimestamp(long micros)
{
    public readonly long Micros = micros;

    public static DuckDbTimestamp From(DateTimeOffset value) => new(ToUnixMicros(value));

    public static long ToUnixMicros(DateTimeOffset value) =>
        (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    public static DateTimeOffset FromUnixMicros(long micros) =>
        DateTimeOffset.UnixEpoch.AddTicks(micros * TimeSpan.TicksPerMicrosecond);
}
