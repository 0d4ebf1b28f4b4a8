using System.Globalization;
using System.Text.Json;

namespace Ingest.Cli.Bench;

/// <summary>The figures of a <c>bench postgres</c> run: a table to read, then one JSON line to keep.</summary>
internal sealed class BenchReport(PostgresBenchSettings settings, BenchEvents events, string server, SinkResult sink, TimeSpan psql)
{
    /// <summary>The sink should reach at least this share of psql's rate.</summary>
    public const double Target = 0.70;

    private double SinkEventsPerSecond => events.Count / sink.Elapsed.TotalSeconds;

    private double PsqlEventsPerSecond => events.Count / psql.TotalSeconds;

    private double Ratio => SinkEventsPerSecond / PsqlEventsPerSecond;

    public void Write(TextWriter output)
    {
        var mib = events.PayloadBytes / (1024.0 * 1024);
        var c = sink.Counters;
        output.WriteLine();
        output.WriteLine($"{events.Count:N0} events, {mib:F1} MiB of JSON (~{events.PayloadBytes / events.Count} B each), {settings.Streams} streams, " +
            $"flushes of {PostgresBenchSettings.MinFlushEvents}-{PostgresBenchSettings.MaxFlushEvents} events");
        output.WriteLine($"server: {server}");
        output.WriteLine($"event:  {events.Sample}");
        output.WriteLine();
        output.WriteLine($"{"",-26}{"seconds",9}{"events/s",13}{"MiB/s",9}");
        Row(output, "PostgresEventSink", sink.Elapsed, mib);
        Row(output, "psql \\copy (baseline)", psql, mib);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{"sink / baseline",-26}{"",9}{Ratio * 100,12:F1}%   (target {Target * 100:F0}%: {(Ratio >= Target ? "met" : "NOT met")})"));
        output.WriteLine();
        output.WriteLine($"sink: {c.Commits:N0} commits, {c.EventsPerCommit:N0} events and {c.StreamsPerCommit:N1} streams per commit, " +
            $"{c.Retries} retries, {sink.Backpressure} backpressure waits");
        output.WriteLine(JsonSerializer.Serialize(new
        {
            bench = "postgres",
            events = events.Count,
            streams = settings.Streams,
            payloadBytes = events.PayloadBytes,
            sink = new { seconds = Round(sink.Elapsed.TotalSeconds), eventsPerSecond = Math.Round(SinkEventsPerSecond), mibPerSecond = Round(mib / sink.Elapsed.TotalSeconds), commits = c.Commits, backpressureWaits = sink.Backpressure },
            psql = new { seconds = Round(psql.TotalSeconds), eventsPerSecond = Math.Round(PsqlEventsPerSecond), mibPerSecond = Round(mib / psql.TotalSeconds) },
            ratio = Round(Ratio),
        }));
    }

    private void Row(TextWriter output, string name, TimeSpan elapsed, double mib) =>
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{name,-26}{elapsed.TotalSeconds,9:F2}{events.Count / elapsed.TotalSeconds,13:N0}{mib / elapsed.TotalSeconds,9:F1}"));

    private static double Round(double value) => Math.Round(value, 3);
}
