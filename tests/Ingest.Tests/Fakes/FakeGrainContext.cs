using Ingest.Grains;

namespace Ingest.Tests.Fakes;

/// <summary>
/// A grain's host in a unit test. Timers run on a <see cref="ManualTimeProvider"/>: a tick
/// that comes due is queued, and the test runs it with <see cref="RunDueAsync"/>, as the
/// host would run it as a turn.
/// </summary>
internal sealed class FakeGrainContext(ManualTimeProvider time) : IGrainContext
{
    private readonly Queue<Func<ValueTask>> _due = new();

    public bool DeactivationRequested { get; private set; }

    public void DeactivateOnIdle() => DeactivationRequested = true;

    public IDisposable RegisterTimer(Func<ValueTask> callback, TimeSpan dueTime) =>
        time.CreateTimer(_ => _due.Enqueue(callback), null, dueTime, Timeout.InfiniteTimeSpan);

    public async Task<int> RunDueAsync()
    {
        var ran = 0;
        while (_due.TryDequeue(out var callback))
        {
            await callback();
            ran++;
        }
        return ran;
    }
}
