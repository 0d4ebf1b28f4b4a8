using System.Diagnostics;
using Npgsql;

namespace Ingest.Cli.Cluster;

/// <summary>
/// A PostgreSQL server on a loopback port, run with the installed binaries (<c>initdb</c>,
/// <c>pg_ctl</c>). Either throwaway (<see cref="StartNewAsync"/>: a temporary directory, fsync off,
/// removed on dispose; about a second to start, so share it and give each user a database of its
/// own with <see cref="CreateDatabaseAsync"/>) or kept (<see cref="OpenAsync"/>: a data directory
/// created once and started again on every open). Password authentication over TCP, so a wrong
/// password is refused as it would be in production; no Unix socket, so a long data path can't
/// exceed the socket path limit.
/// </summary>
/// <remarks>
/// PostgreSQL refuses to run as root; as root, the server runs as the <c>postgres</c> user, which
/// must be able to reach the data directory. <c>pg_ctl</c> starts the server as a daemon, so it
/// outlives a process that is killed; <see cref="OpenAsync"/> stops such a leftover first.
/// </remarks>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string User = "postgres";

    /// <summary>Where a kept server's password is, beside PostgreSQL's own files (readable by its owner only).</summary>
    public const string PasswordFileName = "ingest-password";

    private readonly string _binaries;
    private readonly string? _runAs;
    private readonly string? _scratch;
    private int _databases;

    private PostgresServer(string dataDirectory, int port, string password, string? scratch)
    {
        _binaries = FindBinaries();
        _runAs = Environment.IsPrivilegedProcess ? User : null;
        _scratch = scratch;
        DataDirectory = dataDirectory;
        Port = port;
        Password = password;
    }

    public static string Host => "127.0.0.1";

    public int Port { get; }

    public string Password { get; }

    /// <summary>The cluster's data directory (<c>PGDATA</c>); the server log is in it too.</summary>
    public string DataDirectory { get; }

    public string LogFile => Path.Combine(DataDirectory, "server.log");

    /// <summary>The server's <c>postgres</c> database, as superuser.</summary>
    public string ConnectionString => ConnectionStringFor("postgres");

    private bool Throwaway => _scratch is not null;

    /// <summary>Creates a cluster in a fresh temporary directory and starts it on a free port.</summary>
    public static Task<PostgresServer> StartNewAsync(CancellationToken cancellationToken = default)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "ingest-postgres", Guid.NewGuid().ToString("N"));
        return StartAsync(new PostgresServer(Path.Combine(scratch, "data"), LoopbackPort.Free(), NewPassword(), scratch), cancellationToken);
    }

    /// <summary>
    /// Starts the cluster in <paramref name="dataDirectory"/>, creating it first if it holds none
    /// (no <c>PG_VERSION</c>), so what it stores survives a stop and the next open.
    /// </summary>
    /// <param name="port">The port to listen on; 0 picks a free one.</param>
    public static async Task<PostgresServer> OpenAsync(string dataDirectory, int port = 0, CancellationToken cancellationToken = default)
    {
        dataDirectory = Path.GetFullPath(dataDirectory);
        var passwordFile = Path.Combine(dataDirectory, PasswordFileName);
        string password;
        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
            password = NewPassword();
        else if (File.Exists(passwordFile))
            password = (await File.ReadAllTextAsync(passwordFile, cancellationToken)).Trim();
        else
            throw new InvalidOperationException($"{dataDirectory} holds a PostgreSQL cluster that ingest did not create (no {PasswordFileName}); choose another directory.");
        return await StartAsync(new PostgresServer(dataDirectory, port == 0 ? LoopbackPort.Free() : port, password, scratch: null), cancellationToken);
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
        await ExecuteAsync($"CREATE DATABASE \"{name}\"", cancellationToken);
        return ConnectionStringFor(name);
    }

    /// <summary>Creates the database <paramref name="name"/> unless it exists, and returns its connection string.</summary>
    public async Task<string> EnsureDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new NpgsqlParameter { Value = name } } };
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            await ExecuteAsync($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", cancellationToken);
        return ConnectionStringFor(name);
    }

    /// <summary>Starts the server, again on the same port and data directory after <see cref="StopAsync"/>.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        // pg_ctl hands these to postgres through a shell, hence the quotes around the empty value.
        var options = $"-p {Port} -c listen_addresses={Host} -c unix_socket_directories=''";
        if (Throwaway)
            options += " -c fsync=off -c full_page_writes=off";
        return RunToolAsync("pg_ctl", ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o", options, "start"], cancellationToken);
    }

    /// <summary>Stops the server at once, as an outage would: open connections are cut, nothing committed is lost.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        RunToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "stop"], cancellationToken);

    /// <summary>Stops the server if it runs; a throwaway one is also removed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            try
            {
                // Nothing of a throwaway server is kept, so it need not shut down cleanly.
                await RunToolAsync("pg_ctl", ["-D", DataDirectory, "-m", Throwaway ? "immediate" : "fast", "-w", "stop"], CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // Not running after all.
            }
        }
        if (_scratch is not null)
        {
            try
            {
                Directory.Delete(_scratch, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<PostgresServer> StartAsync(PostgresServer server, CancellationToken cancellationToken)
    {
        try
        {
            if (File.Exists(Path.Combine(server.DataDirectory, "PG_VERSION")))
                await server.StopLeftoverAsync(cancellationToken);
            else
                await server.InitAsync(cancellationToken);
            await server.StartAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task InitAsync(CancellationToken cancellationToken)
    {
        // initdb takes an existing directory if it is empty; as root it must belong to the server's user.
        Directory.CreateDirectory(DataDirectory);
        if (_runAs is not null)
        {
            await RunAsync("chown", [_runAs, DataDirectory], cancellationToken);
            if (await RunAsync("runuser", ["-u", _runAs, "--", "test", "-w", DataDirectory], cancellationToken, check: false) != 0)
                throw new InvalidOperationException(
                    $"PostgreSQL runs as the {_runAs} user, which cannot reach {DataDirectory}: choose a directory outside private ones such as /root.");
        }
        var passwordFile = Path.Combine(Path.GetTempPath(), $"ingest-postgres-{Guid.NewGuid():N}");
        try
        {
            await File.WriteAllTextAsync(passwordFile, Password, cancellationToken);
            if (_runAs is not null)
                await RunAsync("chown", [_runAs, passwordFile], cancellationToken);
            string[] arguments =
                ["-D", DataDirectory, "-U", User, "--auth-host=scram-sha-256", "--auth-local=trust", $"--pwfile={passwordFile}", "-E", "UTF8", "--no-locale"];
            await RunToolAsync("initdb", Throwaway ? [.. arguments, "--no-sync"] : arguments, cancellationToken);
        }
        finally
        {
            File.Delete(passwordFile);
        }
        if (!Throwaway)
        {
            var kept = Path.Combine(DataDirectory, PasswordFileName);
            await File.WriteAllTextAsync(kept, Password, cancellationToken);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(kept, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            if (_runAs is not null)
                await RunAsync("chown", [_runAs, kept], cancellationToken);
        }
    }

    /// <summary>A server left running by a process that was killed holds the data directory: stop it.</summary>
    private async Task StopLeftoverAsync(CancellationToken cancellationToken)
    {
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid"))
            && await RunToolAsync("pg_ctl", ["-D", DataDirectory, "status"], cancellationToken, check: false) == 0)
        {
            await StopAsync(cancellationToken);
        }
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string NewPassword() => Guid.NewGuid().ToString("N");

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

    private Task<int> RunToolAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken, bool check = true)
    {
        var path = Path.Combine(_binaries, tool);
        return _runAs is null
            ? RunAsync(path, arguments, cancellationToken, check)
            : RunAsync("runuser", ["-u", _runAs, "--", path, .. arguments], cancellationToken, check);
    }

    private static async Task<int> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken, bool check = true)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
        if (check && process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(fileName)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr}{await stdout}");
        return process.ExitCode;
    }
}
