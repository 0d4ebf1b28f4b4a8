using Ingest.Grains;

namespace Ingest.Tests.Fakes;

/// <summary>Keeps every flush it is given; can be told to fail or to hold writes open.</summary>
internal sealed class RecordingSink : IEventSink
{
    private readonly Lock _lock = new();
    private readonly List<StreamFlush> _flushes = [];
    private int _inside;

    public bool Fail { get; set; }

    /// <summary>When set, writes wait for it; lets a test hold a flush in progress.</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>Most writes that were ever in progress at once.</summary>
    public int MaxConcurrentWrites { get; private set; }

    public IReadOnlyList<StreamFlush> Flushes
    {
        get
        {
            lock (_lock)
                return [.. _flushes];
        }
    }

    /// <summary>With <see cref="Fail"/>: the write throws before it returns a task, as a sink whose queue is full does.</summary>
    public bool FailAtOnce { get; set; }

    public ValueTask WriteAsync(StreamFlush flush, CancellationToken cancellationToken) =>
        Fail && FailAtOnce ? throw new IOException("sink is down") : WriteCoreAsync(flush);

    private async ValueTask WriteCoreAsync(StreamFlush flush)
    {
        var inside = Interlocked.Increment(ref _inside);
        lock (_lock)
            MaxConcurrentWrites = Math.Max(MaxConcurrentWrites, inside);
        try
        {
            if (Gate is { } gate)
                await gate.Task;
            await Task.Yield();
            if (Fail)
                throw new IOException("sink is down");
            lock (_lock)
                _flushes.Add(flush);
        }
        finally
        {
            Interlocked.Decrement(ref _inside);
        }
    }
}
