namespace Ingest.Gateway.Ingest;

internal static class AtomicMax
{
    /// <summary>Raises <paramref name="target"/> to <paramref name="value"/> unless it is already higher; progress reports may race.</summary>
    public static void Raise(ref long target, long value)
    {
        long seen;
        while ((seen = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
