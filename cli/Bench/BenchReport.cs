using System.Globalization;
using System.Text.Json;

namespace Ingest.Cli.Bench;

/// <summary>The figures of a <c>bench postgres</c> run: a table to read, then one JSON line to keep.</summary>
internal sealed class BenchReport(
    PostgresBenchSettings settings, BenchEvents events, string server, IReadOnlyList<SinkResult> sinks, IReadOnlyList<TimeSpan> psqls)
{
    /// <summary>The sink should reach at least this share of psql's rate.</summary>
    public const double Target = 0.70;

    private SinkResult Sink => sinks.MinBy(s => s.Elapsed)!;

    private TimeSpan Psql => psqls.Min();

    private double Mib => events.PayloadBytes / (1024.0 * 1024);

    private double Ratio => Psql.TotalSeconds / Sink.Elapsed.TotalSeconds;

    public void Write(TextWriter output)
    {
        var c = Sink.Counters;
        output.WriteLine();
        output.WriteLine($"{events.Count:N0} events, {Mib:F1} MiB of JSON (~{events.PayloadBytes / events.Count} B each), {settings.Streams} streams, " +
            $"flushes of {PostgresBenchSettings.MinFlushEvents}-{PostgresBenchSettings.MaxFlushEvents} events");
        output.WriteLine($"server: {server}");
        output.WriteLine($"event:  {events.Sample}");
        output.WriteLine();
        output.WriteLine($"{"best of " + settings.Rounds + " rounds",-26}{"seconds",9}{"events/s",13}{"MiB/s",9}   {"every round (s)"}");
        Row(output, "PostgresEventSink", Sink.Elapsed, sinks.Select(s => s.Elapsed));
        Row(output, "psql \\copy (baseline)", Psql, psqls);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{"sink / baseline",-26}{"",9}{Ratio * 100,12:F1}%   (target {Target * 100:F0}%: {(Ratio >= Target ? "met" : "NOT met")})"));
        output.WriteLine();
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"sink: {c.Commits:N0} commits, {c.EventsPerCommit:N0} events and {c.StreamsPerCommit:N1} streams per commit, {c.Retries} retries, " +
            $"{Sink.Backpressure} backpressure waits; client CPU {Sink.ClientCpu.TotalSeconds:F2} s ({Sink.ClientCpu.TotalMicroseconds / events.Count:F2} µs/event)"));
        output.WriteLine(JsonSerializer.Serialize(new
        {
            bench = "postgres",
            events = events.Count,
            streams = settings.Streams,
            payloadBytes = events.PayloadBytes,
            rounds = settings.Rounds,
            sink = new
            {
                seconds = Round(Sink.Elapsed.TotalSeconds),
                eventsPerSecond = Math.Round(events.Count / Sink.Elapsed.TotalSeconds),
                mibPerSecond = Round(Mib / Sink.Elapsed.TotalSeconds),
                commits = c.Commits,
                backpressureWaits = Sink.Backpressure,
                clientCpuSeconds = Round(Sink.ClientCpu.TotalSeconds),
            },
            psql = new
            {
                seconds = Round(Psql.TotalSeconds),
                eventsPerSecond = Math.Round(events.Count / Psql.TotalSeconds),
                mibPerSecond = Round(Mib / Psql.TotalSeconds),
            },
            ratio = Round(Ratio),
        }));
    }

    private void Row(TextWriter output, string name, TimeSpan best, IEnumerable<TimeSpan> rounds)
    {
        var every = string.Join(" ", rounds.Select(r => r.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)));
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{name,-26}{best.TotalSeconds,9:F2}{events.Count / best.TotalSeconds,13:N0}{Mib / best.TotalSeconds,9:F1}   {every}"));
    }

    private static double Round(double value) => Math.Round(value, 3);
}
