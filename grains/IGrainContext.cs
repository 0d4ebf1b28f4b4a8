namespace Ingest.Grains;

/// <summary>
/// What a grain may ask of its host. Timer ticks run as turns of the grain, never alongside
/// its other calls (Orleans: <c>RegisterGrainTimer</c> and <c>DeactivateOnIdle</c>).
/// </summary>
public interface IGrainContext
{
    IDisposable RegisterTimer(Func<ValueTask> callback, TimeSpan dueTime);

    /// <summary>Retire this activation once the current call is done; a later call activates it afresh.</summary>
    void DeactivateOnIdle();
}
