using Ingest.Grains;

namespace Ingest.Tests.Fakes;

/// <summary>
/// A grain's host in a unit test. Timers run on a <see cref="ManualTimeProvider"/>: a tick
/// that comes due is queued, and the test runs it with <see cref="RunDueAsync"/>, as the
/// host would run it as a turn. So are completions (<see cref="WhenDone"/>).
/// </summary>
internal sealed class FakeGrainContext(ManualTimeProvider time) : IGrainContext
{
    private readonly Queue<Func<ValueTask>> _due = new();
    private readonly Queue<(Task Task, Func<ValueTask> Callback)> _completions = new();

    public bool DeactivationRequested { get; private set; }

    public void DeactivateOnIdle() => DeactivationRequested = true;

    public IDisposable RegisterTimer(Func<ValueTask> callback, TimeSpan dueTime) =>
        time.CreateTimer(_ => _due.Enqueue(callback), null, dueTime, Timeout.InfiniteTimeSpan);

    /// <summary>Queued at once, run by <see cref="RunDueAsync"/> once the task has ended.</summary>
    public void WhenDone(Task task, Func<ValueTask> callback) => _completions.Enqueue((task, callback));

    /// <summary>
    /// Runs the ticks that are due and the completions, as the host would run them as turns, one
    /// at a time; then whatever those queued. With <paramref name="waitForTasks"/> it waits for each
    /// completion's task; without, it leaves those whose task has not ended queued, so a test can
    /// act while a write is held open.
    /// </summary>
    /// <returns>How many ran.</returns>
    public async Task<int> RunDueAsync(bool waitForTasks = true)
    {
        var ran = 0;
        while (true)
        {
            if (_due.TryDequeue(out var callback))
            {
                await callback();
                ran++;
            }
            else if (_completions.TryPeek(out var completion) && (waitForTasks || completion.Task.IsCompleted))
            {
                _completions.Dequeue();
                await completion.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                await completion.Callback();
                ran++;
            }
            else
            {
                return ran;
            }
        }
    }
}
