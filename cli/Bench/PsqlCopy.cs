using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace Ingest.Cli.Bench;

/// <summary>
/// The baseline: the same rows, written to a file in COPY's text format first, loaded by
/// <c>psql \copy</c> in one statement into the same table. Only the psql run is timed.
/// </summary>
internal static class PsqlCopy
{
    public static async Task<string> WriteFileAsync(BenchEvents events, string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var row = new MemoryStream();
        foreach (var stream in events.Streams)
        {
            var key = Encoding.UTF8.GetBytes(stream.Key.Value);
            foreach (var batch in stream.Batches)
            {
                var receivedAt = Encoding.UTF8.GetBytes(batch.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff'+00'", CultureInfo.InvariantCulture));
                for (var i = 0; i < batch.Count; i++)
                {
                    row.SetLength(0);
                    row.Write(key);
                    row.WriteByte((byte)'\t');
                    row.Write(Encoding.UTF8.GetBytes(batch.SeqOf(i).ToString(CultureInfo.InvariantCulture)));
                    row.WriteByte((byte)'\t');
                    row.Write(receivedAt);
                    row.WriteByte((byte)'\t');
                    WriteEscaped(row, batch[i]);
                    row.WriteByte((byte)'\n');
                    await file.WriteAsync(row.GetBuffer().AsMemory(0, (int)row.Length), cancellationToken);
                }
            }
        }
        return path;
    }

    /// <summary>Runs psql's <c>\copy</c> of the file into <c>events</c> and times it.</summary>
    public static async Task<TimeSpan> RunAsync(string connectionString, string path, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var start = new ProcessStartInfo(FindPsql()) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[]
                 {
                     "-X", "-q", "-v", "ON_ERROR_STOP=1",
                     "-h", builder.Host!, "-p", builder.Port.ToString(CultureInfo.InvariantCulture),
                     "-U", builder.Username ?? "postgres", "-d", builder.Database ?? "postgres",
                     "-c", $"\\copy events (stream_id, seq, received_at, payload) FROM '{path.Replace("'", "''", StringComparison.Ordinal)}'",
                 })
        {
            start.ArgumentList.Add(argument);
        }
        if (builder.Password is { } password)
            start.Environment["PGPASSWORD"] = password;

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        watch.Stop();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"psql exited with {process.ExitCode}: {await stderr}");
        return watch.Elapsed;
    }

    // COPY's text format: backslash escapes for the delimiter, line ends and backslash itself.
    private static void WriteEscaped(MemoryStream row, ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            switch (b)
            {
                case (byte)'\\': row.Write("\\\\"u8); break;
                case (byte)'\t': row.Write("\\t"u8); break;
                case (byte)'\n': row.Write("\\n"u8); break;
                case (byte)'\r': row.Write("\\r"u8); break;
                default: row.WriteByte(b); break;
            }
        }
    }

    private static string FindPsql()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "psql"))
            .FirstOrDefault(File.Exists);
        return onPath
            ?? (Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql") : [])
                .Select(d => Path.Combine(d, "bin", "psql"))
                .FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("psql was not found: install the PostgreSQL client (apt-get install postgresql-client).");
    }
}
