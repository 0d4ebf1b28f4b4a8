namespace Ingest.Silo.Storage.Analytics;

/// <summary>A compaction's merge running on the thread pool, and the means to stop it.</summary>
internal sealed class RunningMerge : IDisposable
{
    private readonly CancellationTokenSource _cancellation;

    private RunningMerge(CompactionPlan plan, CancellationTokenSource cancellation, Task<long> task)
    {
        Plan = plan;
        _cancellation = cancellation;
        Task = task;
    }

    public CompactionPlan Plan { get; }

    /// <summary>The merged file's size once it is durable.</summary>
    public Task<long> Task { get; }

    public static RunningMerge Start(SegmentCompactor compactor, CompactionPlan plan, CancellationToken stopping)
    {
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var token = cancellation.Token;
        return new RunningMerge(plan, cancellation, System.Threading.Tasks.Task.Run(() => compactor.Merge(plan, token), CancellationToken.None));
    }

    public Task CancelAsync() => _cancellation.CancelAsync();

    public void Dispose() => _cancellation.Dispose();
}
