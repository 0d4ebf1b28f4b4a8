using System.IO.Compression;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Ingest.Gateway.Ingest;

/// <summary>Which request bodies the POST endpoint reads, and how to decode them.</summary>
internal static class BodyEncoding
{
    /// <summary>
    /// Media types read as a stream of JSON values. Form-urlencoded is here because it is
    /// what <c>curl --data-binary</c> sends unless told otherwise, and anacrolix/telemetry's
    /// server never looked at the content type.
    /// </summary>
    private static readonly string[] SupportedMediaTypes =
    [
        "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
        "application/jsonlines", "application/json", "text/plain", "text/x-ndjson",
        "application/octet-stream", "application/x-www-form-urlencoded",
    ];

    public static string? CheckContentType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
            return null;
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed))
            return $"unreadable Content-Type '{contentType}'";
        var mediaType = parsed.MediaType.Value;
        foreach (var supported in SupportedMediaTypes)
        {
            if (string.Equals(mediaType, supported, StringComparison.OrdinalIgnoreCase))
                return parsed.Charset.HasValue && !parsed.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
                    ? $"unsupported charset '{parsed.Charset}': events must be UTF-8"
                    : null;
        }
        return $"unsupported Content-Type '{mediaType}': send newline-delimited JSON (application/x-ndjson, application/json or text/plain)";
    }

    /// <summary>The decoded body, or null with an error for an encoding we don't read.</summary>
    public static Stream? Decode(HttpRequest request, out string? error)
    {
        error = null;
        var encoding = request.Headers.ContentEncoding.ToString().Trim();
        if (encoding.Length == 0 || encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
            return request.Body;
        if (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase) || encoding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
            return new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true);
        if (encoding.Equals("deflate", StringComparison.OrdinalIgnoreCase))
            return new ZLibStream(request.Body, CompressionMode.Decompress, leaveOpen: true);
        if (encoding.Equals("br", StringComparison.OrdinalIgnoreCase))
            return new BrotliStream(request.Body, CompressionMode.Decompress, leaveOpen: true);
        error = $"unsupported Content-Encoding '{encoding}': use gzip, deflate, br or none";
        return null;
    }
}
