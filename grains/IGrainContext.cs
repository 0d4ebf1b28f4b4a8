namespace Ingest.Grains;

/// <summary>
/// What a grain may ask of its host. Timer ticks and completions run as turns of the grain,
/// never alongside its other calls (Orleans: <c>RegisterGrainTimer</c>, a continuation scheduled
/// on the activation, and <c>DeactivateOnIdle</c>).
/// </summary>
public interface IGrainContext
{
    IDisposable RegisterTimer(Func<ValueTask> callback, TimeSpan dueTime);

    /// <summary>
    /// Runs <paramref name="callback"/> as a turn once <paramref name="task"/> has ended, whether it
    /// succeeded or not; the callback looks at the task. Not run if the activation has gone by then.
    /// </summary>
    void WhenDone(Task task, Func<ValueTask> callback);

    /// <summary>Retire this activation once the current call is done; a later call activates it afresh.</summary>
    void DeactivateOnIdle();
}
