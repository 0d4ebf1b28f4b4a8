using Ingest.Contracts;
using Ingest.Grains;

namespace Ingest.Tests.Fakes;

/// <summary>
/// An exclusive sink as a grain may expect one to be: it takes writes in the order they are made,
/// holds each until the test settles it (or settles it at once, with <see cref="SettleAtOnce"/>),
/// and refuses a write that follows a failed one of its stream.
/// </summary>
internal sealed class OrderedSink : IEventSink
{
    private readonly Lock _lock = new();
    private readonly Queue<(StreamFlush Flush, TaskCompletionSource Done)> _held = new();
    private readonly HashSet<StreamKey> _failed = [];
    private readonly List<StreamFlush> _received = [];
    private readonly List<StreamFlush> _stored = [];

    /// <summary>When set, each write is settled (stored) as it comes.</summary>
    public bool SettleAtOnce { get; set; }

    public IReadOnlyList<StreamFlush> Received
    {
        get
        {
            lock (_lock)
                return [.. _received];
        }
    }

    public IReadOnlyList<StreamFlush> Stored
    {
        get
        {
            lock (_lock)
                return [.. _stored];
        }
    }

    public ValueTask WriteAsync(StreamFlush flush, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _received.Add(flush);
            _held.Enqueue((flush, done));
        }
        if (SettleAtOnce)
            SettleNext();
        return new ValueTask(done.Task);
    }

    /// <summary>Settles the oldest write held: stores it, or fails it as a full disk would.</summary>
    public void SettleNext(bool fail = false)
    {
        StreamFlush flush;
        TaskCompletionSource done;
        Exception? failure = null;
        lock (_lock)
        {
            (flush, done) = _held.Dequeue();
            var key = flush.State.Key;
            if (!flush.Follows)
                _failed.Remove(key);
            if (flush.Follows && _failed.Contains(key))
            {
                failure = new PrecedingWriteFailedException(key);
            }
            else if (fail)
            {
                _failed.Add(key);
                failure = new IOException("No space left on device");
            }
            else
            {
                _stored.Add(flush);
            }
        }
        if (failure is null)
            done.SetResult();
        else
            done.SetException(failure);
    }
}
