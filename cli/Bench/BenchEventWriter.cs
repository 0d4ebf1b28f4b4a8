using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ingest.Cli.Bench;

/// <summary>
/// Writes one structured event as services send them, in a <see cref="BenchShape"/>, with values
/// drawn from <see cref="Random"/> and a message that brings it to about the size asked for.
/// </summary>
internal static class BenchEventWriter
{
    private static readonly string[] Services = ["payments", "ledger", "gateway", "accounts", "search", "notifier"];
    private static readonly string[] Routes = ["/v1/transfer", "/v1/balance", "/v1/accounts/{id}", "/v1/search", "/healthz", "/v1/login"];
    private static readonly string[] Methods = ["GET", "GET", "GET", "POST", "POST", "PUT", "DELETE"];
    private static readonly string[] Roles = ["admin", "support", "billing", "reader", "ops"];
    private static readonly string[] SpanEvents = ["cache.miss", "db.query", "retry", "lock.wait", "queue.publish"];
    private static readonly string[] Words =
        ["transfer", "completed", "balance", "insufficient", "retrying", "upstream", "timeout", "cache", "miss", "hit",
         "account", "locked", "token", "refreshed", "queue", "depth", "request", "accepted", "rejected", "validation"];

    /// <param name="source">Picks the service, so events of one source look alike as a service's would.</param>
    /// <param name="n">The event's place in its source, which moves its timestamp along.</param>
    public static void Write(IBufferWriter<byte> buffer, Random random, int source, long n, DateTimeOffset at, int size, BenchShape shape)
    {
        using var json = new Utf8JsonWriter(buffer);
        var status = random.Next(100) switch { < 85 => 200, < 92 => 404, < 97 => 409, _ => 503 };
        json.WriteStartObject();
        json.WriteString("ts", at.AddTicks(n % 10_000 * 10).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        json.WriteString("level", status >= 500 ? "ERROR" : status >= 400 ? "WARN" : "INFO");
        switch (shape)
        {
            case BenchShape.Wide:
                WriteWide(json, random, source, status);
                break;
            case BenchShape.Nested:
                WriteNested(json, random, source, status, at);
                break;
            default:
                WriteFlat(json, random, source, status);
                break;
        }
        json.Flush();
        // The message brings the event to about the size asked for (the 10 bytes are its key and quotes).
        var room = size - (int)json.BytesCommitted - 10;
        if (room > 0)
        {
            var message = new StringBuilder();
            while (message.Length < room)
                message.Append(Words[random.Next(Words.Length)]).Append(' ');
            json.WriteString("msg", message.ToString(0, message.Length - 1));
        }
        json.WriteEndObject();
    }

    private static void WriteWide(Utf8JsonWriter json, Random random, int source, int status)
    {
        json.WriteString("service", Services[source % Services.Length]);
        json.WriteString("trace", $"{random.NextInt64():x16}");
        json.WriteStartObject("http");
        json.WriteString("method", Methods[random.Next(Methods.Length)]);
        json.WriteString("route", Routes[random.Next(Routes.Length)]);
        json.WriteNumber("status", status);
        json.WriteNumber("ms", Math.Round(random.NextDouble() * 250, 2));
        json.WriteEndObject();
        json.WriteString("user", $"u{random.Next(100_000)}");
    }

    private static void WriteNested(Utf8JsonWriter json, Random random, int source, int status, DateTimeOffset at)
    {
        json.WriteStartObject("resource");
        json.WriteStartObject("service");
        json.WriteString("name", Services[source % Services.Length]);
        json.WriteString("version", $"1.{random.Next(20)}.{random.Next(100)}");
        json.WriteEndObject();
        json.WriteStartObject("host");
        json.WriteString("name", $"node-{random.Next(64)}");
        json.WriteNumber("cpu", random.Next(32));
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteStartObject("span");
        json.WriteString("trace", $"{random.NextInt64():x16}");
        json.WriteString("id", $"{random.Next():x8}");
        json.WriteStartObject("attrs");
        json.WriteStartObject("http");
        json.WriteString("method", Methods[random.Next(Methods.Length)]);
        json.WriteString("route", Routes[random.Next(Routes.Length)]);
        json.WriteNumber("status", status);
        json.WriteEndObject();
        json.WriteStartObject("db");
        json.WriteNumber("rows", random.Next(1000));
        json.WriteNumber("ms", Math.Round(random.NextDouble() * 40, 2));
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteStartArray("events");
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            json.WriteStartObject();
            json.WriteString("name", SpanEvents[random.Next(SpanEvents.Length)]);
            json.WriteNumber("at_us", at.Millisecond * 1000 + random.Next(1000));
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteStartObject("user");
        json.WriteString("id", $"u{random.Next(100_000)}");
        json.WriteStartArray("roles");
        json.WriteStringValue(Roles[random.Next(Roles.Length)]);
        if (random.Next(3) == 0)
            json.WriteStringValue(Roles[random.Next(Roles.Length)]);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteFlat(Utf8JsonWriter json, Random random, int source, int status)
    {
        json.WriteString("service", Services[source % Services.Length]);
        json.WriteString("request", $"{random.Next():x8}");
        json.WriteNumber("status", status);
        json.WriteNumber("ms", Math.Round(random.NextDouble() * 250, 2));
    }
}
