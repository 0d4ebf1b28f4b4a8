namespace Ingest.Grains;

/// <summary>
/// Timers whose ticks run as turns of the grain that registered them, never alongside
/// its other calls. The host implements it (Orleans: <c>RegisterGrainTimer</c>).
/// </summary>
public interface IGrainTimers
{
    IDisposable RegisterTimer(Func<ValueTask> callback, TimeSpan dueTime);
}
