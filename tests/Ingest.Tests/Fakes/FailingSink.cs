using Ingest.Grains;

namespace Ingest.Tests.Fakes;

/// <summary>Passes writes to the real sink until told to fail, as a full disk would.</summary>
internal sealed class FailingSink(IEventSink inner) : IEventSink
{
    public volatile bool Failing;

    public ValueTask WriteAsync(StreamFlush flush, CancellationToken cancellationToken) =>
        Failing ? ValueTask.FromException(new IOException("No space left on device")) : inner.WriteAsync(flush, cancellationToken);
}
