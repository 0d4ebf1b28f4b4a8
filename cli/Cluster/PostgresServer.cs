using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Ingest.Cli.Cluster;

/// <summary>
/// A throwaway PostgreSQL server: <c>initdb</c> into a temporary directory, started on a free
/// loopback port with fsync off, removed on dispose. Password authentication over TCP, so a wrong
/// password is refused as it would be in production. Starting one costs about a second; share it
/// and give each test a database of its own (<see cref="CreateDatabaseAsync"/>).
/// </summary>
/// <remarks>
/// Used by the cli's benchmark and by the PostgreSQL tests; it depends on nothing but Npgsql and the BCL.
/// PostgreSQL refuses to run as root; as root, the server runs as the <c>postgres</c> user.
/// </remarks>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string User = "postgres";

    private readonly string _directory;
    private readonly string _binaries;
    private readonly string? _runAs;
    private int _databases;

    private PostgresServer(string directory, string binaries, string? runAs, int port, string password)
    {
        _directory = directory;
        _binaries = binaries;
        _runAs = runAs;
        Port = port;
        Password = password;
    }

    public static string Host => "127.0.0.1";

    public int Port { get; }

    public string Password { get; }

    /// <summary>The server's <c>postgres</c> database, as superuser.</summary>
    public string ConnectionString => ConnectionStringFor("postgres");

    private string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>Creates a cluster in a fresh temporary directory and starts it.</summary>
    public static async Task<PostgresServer> StartNewAsync(CancellationToken cancellationToken = default)
    {
        var binaries = FindBinaries();
        var runAs = Environment.IsPrivilegedProcess ? User : null;
        var directory = Path.Combine(Path.GetTempPath(), "ingest-postgres", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var password = Guid.NewGuid().ToString("N");
        var server = new PostgresServer(directory, binaries, runAs, FreePort(), password);
        try
        {
            var passwordFile = Path.Combine(directory, "password");
            await File.WriteAllTextAsync(passwordFile, password, cancellationToken);
            if (runAs is not null)
                await RunAsync("chown", ["-R", runAs, directory], cancellationToken);
            await server.RunToolAsync(
                "initdb",
                ["-D", server.DataDirectory, "-U", User, "--auth-host=scram-sha-256", "--auth-local=trust",
                 $"--pwfile={passwordFile}", "-E", "UTF8", "--no-locale", "--no-sync"],
                cancellationToken);
            File.Delete(passwordFile);
            await server.StartAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public string ConnectionStringFor(string database, string? password = null) => new NpgsqlConnectionStringBuilder
    {
        Host = Host,
        Port = Port,
        Username = User,
        Password = password ?? Password,
        Database = database,
        // The outage tests restart the server under open connections; a short timeout keeps
        // their retries quick.
        Timeout = 5,
    }.ConnectionString;

    /// <summary>Creates an empty database of its own and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var name = $"test_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}";
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return ConnectionStringFor(name);
    }

    /// <summary>Starts the server, again on the same port and data directory after <see cref="StopAsync"/>.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => RunToolAsync(
        "pg_ctl",
        ["-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60",
         "-o", $"-p {Port} -k {_directory} -c listen_addresses={Host} -c fsync=off -c full_page_writes=off", "start"],
        cancellationToken);

    /// <summary>Stops the server at once, as an outage would: open connections are cut.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        RunToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "stop"], cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            try
            {
                await RunToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // Not running after all.
            }
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The server's binaries: <c>pg_config --bindir</c>, else the newest Debian install, else PATH.</summary>
    private static string FindBinaries()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("pg_config", "--bindir") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var bin = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            if (process.ExitCode == 0 && File.Exists(Path.Combine(bin, "initdb")))
                return bin;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No pg_config on PATH.
        }
        var installed = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        if (installed is not null)
            return installed;
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")));
        return onPath ?? throw new InvalidOperationException(
            "PostgreSQL's server binaries (initdb, pg_ctl) were not found: install PostgreSQL (apt-get install postgresql) or put them on PATH.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Task RunToolAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_binaries, tool);
        return _runAs is null
            ? RunAsync(path, arguments, cancellationToken)
            : RunAsync("runuser", ["-u", _runAs, "--", path, .. arguments], cancellationToken);
    }

    private static async Task RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(fileName)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr}{await stdout}");
    }
}
