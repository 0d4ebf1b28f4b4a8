using System.IO.Pipelines;
using System.Net;

namespace Ingest.Tests.Infrastructure;

/// <summary>
/// A request body written while the request is in flight, each write sent at once: a
/// long-lived POST stream. (HttpClient holds back a plain stream's bytes until it ends.)
/// </summary>
internal sealed class PushContent(PipeReader source) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        while (true)
        {
            var result = await source.ReadAsync();
            foreach (var segment in result.Buffer)
                await stream.WriteAsync(segment);
            await stream.FlushAsync();
            source.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
                return;
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
