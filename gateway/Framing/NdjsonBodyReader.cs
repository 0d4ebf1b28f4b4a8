using System.Buffers;
using Ingest.Contracts;

namespace Ingest.Gateway.Framing;

/// <summary>
/// Reads a request body as a stream of events: each read becomes one batch of the
/// complete events it finished. The window holds at most one event in progress plus
/// one read, so memory is bounded by the event size limit, not the body size.
/// </summary>
internal sealed class NdjsonBodyReader : IDisposable
{
    private const int ReadSize = 64 * 1024;

    private readonly Stream _body;
    private readonly JsonEventFramer _framer;
    private readonly EventBatchBuilder _builder;
    private readonly RejectionLog _rejections;
    private readonly TimeProvider _time;
    private byte[] _window;
    private int _start;
    private int _end;
    private bool _endOfBody;
    private long _events;

    /// <param name="firstSeq">The sequence number of the body's first event.</param>
    public NdjsonBodyReader(Stream body, int maxEventBytes, RejectionLog rejections, TimeProvider time, long firstSeq = 1)
    {
        _body = body;
        _builder = new EventBatchBuilder(firstSeq);
        _framer = new JsonEventFramer(maxEventBytes);
        _rejections = rejections;
        _time = time;
        _window = ArrayPool<byte>.Shared.Rent(ReadSize * 2);
    }

    /// <summary>Events seen so far, accepted or not.</summary>
    public long Events => _events;

    /// <summary>The next batch, or null once the body is done.</summary>
    public async ValueTask<EventBatch?> ReadBatchAsync(CancellationToken cancellationToken)
    {
        while (!_endOfBody)
        {
            MakeRoom();
            var read = await _body.ReadAsync(_window.AsMemory(_end), cancellationToken);
            _end += read;
            _endOfBody = read == 0;
            Frame();
            if (!_builder.IsEmpty)
                return _builder.Build(_time.GetUtcNow());
        }
        return null;
    }

    private void Frame()
    {
        while (true)
        {
            var frame = _framer.Next(_window.AsSpan(_start, _end - _start), _endOfBody);
            switch (frame.Kind)
            {
                case FrameKind.Event:
                    _events++;
                    _builder.Add(_window.AsSpan(_start + frame.Start, frame.Length));
                    break;
                case FrameKind.Rejected:
                    _events++;
                    _builder.Reject();
                    _rejections.Add(new EventRejection(_events, frame.Line, frame.Error!));
                    break;
            }
            _start += frame.Consumed;
            if (frame.Kind is FrameKind.NeedMoreData or FrameKind.End)
                return;
        }
    }

    /// <summary>Moves the unfinished tail to the front, growing the window while an event outgrows it.</summary>
    private void MakeRoom()
    {
        var pending = _end - _start;
        if (_start > 0)
        {
            _window.AsSpan(_start, pending).CopyTo(_window);
            _start = 0;
            _end = pending;
        }
        if (_window.Length - _end >= ReadSize / 4)
            return;
        // The framer rejects an event once more than the limit is buffered, so this stops near the limit.
        var bigger = ArrayPool<byte>.Shared.Rent(_window.Length * 2);
        _window.AsSpan(0, _end).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_window);
        _window = bigger;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_window);
        _window = [];
    }
}
