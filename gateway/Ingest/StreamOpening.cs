using System.Net;
using Ingest.Contracts;
using Microsoft.AspNetCore.Http;

namespace Ingest.Gateway.Ingest;

internal static class StreamOpening
{
    /// <summary>What a new stream records about the request that opened it.</summary>
    public static StreamOpened From(HttpContext context, StreamTransport transport, StreamRequest stream, TimeProvider time)
    {
        var connection = context.Connection;
        var remote = connection.RemoteIpAddress is { } address
            ? new IPEndPoint(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, connection.RemotePort).ToString()
            : null;
        return new StreamOpened(transport, remote, HeaderJson.From(context.Request.Headers), time.GetUtcNow(), stream.Sinks, stream.Named);
    }
}
