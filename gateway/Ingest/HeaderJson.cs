using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Ingest.Gateway.Ingest;

/// <summary>
/// The opening request's headers as a JSON object, names lower-cased as anacrolix/telemetry
/// stores them; a header sent more than once becomes an array of its values.
/// </summary>
internal static class HeaderJson
{
    public static string From(IHeaderDictionary headers)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (name, values) in headers)
            {
                json.WritePropertyName(name.ToLowerInvariant());
                if (values.Count == 1)
                {
                    json.WriteStringValue(values[0]);
                    continue;
                }
                json.WriteStartArray();
                foreach (var value in values)
                    json.WriteStringValue(value);
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
