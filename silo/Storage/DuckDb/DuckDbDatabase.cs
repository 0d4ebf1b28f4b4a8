using Ingest.Silo.Storage.DuckDb.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Silo.Storage.DuckDb;

/// <summary>
/// The open database file: created with its schema on first use, configured so that SQL can
/// reach nothing outside it, and the source of every connection the storage uses.
/// </summary>
public sealed partial class DuckDbDatabase : IDisposable
{
    private readonly DuckDbDatabaseHandle _handle;
    private readonly ILogger _logger;
    // Set when the file is attached to an in-memory instance: every connection starts in its catalog.
    private readonly string? _use;
    private int _disposed;

    private DuckDbDatabase(DuckDbOptions options, string path, DuckDbDatabaseHandle handle, ILogger logger, string? catalog = null)
    {
        Options = options;
        Path = path;
        _handle = handle;
        _logger = logger;
        _use = catalog is null ? null : $"USE {QuoteIdentifier(catalog)}";
    }

    /// <summary>The version of libduckdb in use, e.g. <c>v1.5.6</c>.</summary>
    public static string LibraryVersion { get; } = NativeText.Read(NativeMethods.Startup.LibraryVersion()) ?? "unknown";

    public DuckDbOptions Options { get; }

    /// <summary>The database file's absolute path.</summary>
    public string Path { get; }

    /// <summary>The level DuckDB compresses at: <see cref="DuckDbOptions.ZstdLevel"/>, or DuckDB's own without the library that sets it.</summary>
    public int ZstdLevel => Native.ZstdLevel.Available ? Options.ZstdLevel : Native.ZstdLevel.DuckDbDefault;

    /// <summary>The level of the sink's catch-up checkpoints: <see cref="DuckDbOptions.CatchUpZstdLevel"/>, or DuckDB's own without the library.</summary>
    public int CatchUpZstdLevel => Native.ZstdLevel.Available ? Options.CatchUpZstdLevel : Native.ZstdLevel.DuckDbDefault;

    /// <summary>How many times DuckDB in this process has asked for its ZSTD level: above zero once the setting took.</summary>
    public static long ZstdLevelCalls => Native.ZstdLevel.Calls;

    /// <summary>Opens the file named by the options, creating it, its directory and the tables as needed.</summary>
    /// <exception cref="ArgumentException">The options are not valid.</exception>
    /// <exception cref="DuckDbException">DuckDB could not open the file (in use by another process, not a database, ...).</exception>
    public static DuckDbDatabase Open(DuckDbOptions options, ILogger<DuckDbDatabase>? logger = null)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException("The DuckDB options are not usable: " + string.Join(" ", errors), nameof(options));

        var path = System.IO.Path.GetFullPath(options.Path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        logger ??= NullLogger<DuckDbDatabase>.Instance;
        // Before DuckDB first compresses in this process, which fixes where its call for the level goes.
        if (!Native.ZstdLevel.TrySet(options.ZstdLevel) && options.ZstdLevel != Native.ZstdLevel.DuckDbDefault)
            LogZstdLevelUnavailable(logger, options.ZstdLevel, Native.ZstdLevel.DuckDbDefault);
        // The file is attached rather than opened, because only ATTACH sets the row group size.
        // Commits of at least a row group are written straight into the file, compressed, and
        // a checkpoint then rewrites at most one partial row group: with DuckDB's default of
        // 122,880 rows, every checkpoint under steady ingestion recompressed that much again.
        var catalog = CatalogName(path);
        var database = new DuckDbDatabase(
            options, path, OpenFile(":memory:", options, externalAccess: true), logger, catalog);
        try
        {
            using (var attaching = database.ConnectUnattached())
            {
                try
                {
                    attaching.Execute($"ATTACH '{path.Replace("'", "''", StringComparison.Ordinal)}' AS {QuoteIdentifier(catalog)} ({AttachOptions(options, File.Exists(path))})");
                }
                catch (DuckDbException e)
                {
                    throw new DuckDbException($"Could not open the DuckDB database {path}: {e.Message}", e);
                }
            }
            using var connection = database.Connect();
            DuckDbSchema.Apply(connection);
            // TimeZone belongs to the ICU extension, which is unknown while the config is read, so
            // it is set here. UTC keeps TIMESTAMPTZ output independent of the host. Then queries
            // lose access to files (the attached database's own file, WAL and spill files are
            // unaffected) and the settings are locked: no query may undo them.
            connection.Execute("SET GLOBAL TimeZone = 'UTC'; SET GLOBAL enable_external_access = false; SET GLOBAL lock_configuration = true;");
        }
        catch
        {
            database._handle.Dispose();
            throw;
        }

        database.LogOpened(path, LibraryVersion);
        return database;
    }

    /// <summary>
    /// ATTACH's options: the row group size, and for a new file its block size (DuckDB refuses a
    /// block size that differs from an existing file's).
    /// </summary>
    private static string AttachOptions(DuckDbOptions options, bool exists)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        var rowGroup = "ROW_GROUP_SIZE " + options.RowGroupSize.ToString(culture);
        return exists ? rowGroup : rowGroup + ", BLOCK_SIZE " + options.BlockSize.ToString(culture);
    }

    /// <summary>
    /// An in-memory database that can read and write files under <paramref name="allowedDirectory"/>
    /// and nowhere else: for turning rows into Parquet segments and querying them. It has the
    /// <c>events</c> table, empty, as a staging area shaped like the file database's, unless
    /// <paramref name="withTables"/> is false (queries then see views of their own).
    /// </summary>
    /// <exception cref="DuckDbException">DuckDB refused to open or configure it.</exception>
    public static DuckDbDatabase OpenInMemory(DuckDbOptions options, string allowedDirectory, bool withTables = true, ILogger<DuckDbDatabase>? logger = null)
    {
        var directory = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(allowedDirectory)) + System.IO.Path.DirectorySeparatorChar;
        var database = new DuckDbDatabase(options, ":memory:", OpenFile(":memory:", options, externalAccess: true), logger ?? NullLogger<DuckDbDatabase>.Instance);
        try
        {
            using var connection = database.Connect();
            if (withTables)
                DuckDbSchema.Apply(connection);
            // Files only under the shared directory: allowed_directories must be set while access
            // is still open, then access is closed and the settings locked.
            connection.Execute($"""
                SET GLOBAL allowed_directories = ['{directory.Replace("'", "''", StringComparison.Ordinal)}'];
                SET GLOBAL enable_external_access = false;
                SET GLOBAL TimeZone = 'UTC';
                SET GLOBAL lock_configuration = true;
                """);
        }
        catch
        {
            database._handle.Dispose();
            throw;
        }
        return database;
    }

    /// <summary>A new connection; its owner disposes it, and uses it from one thread at a time.</summary>
    internal DuckDbConnection Connect()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return ConnectCore();
    }

    private DuckDbConnection ConnectCore()
    {
        var connection = ConnectUnattached();
        if (_use is null)
            return connection;
        try
        {
            connection.Execute(_use);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private DuckDbConnection ConnectUnattached()
    {
        if (NativeMethods.Startup.Connect(_handle, out var connection) == DuckDbState.Success)
            return new DuckDbConnection(connection);
        connection.Dispose();
        throw new DuckDbException($"Could not connect to the DuckDB database {Path}.");
    }

    /// <summary>The name DuckDB itself gives a file it opens: its name without the extension.</summary>
    private static string CatalogName(string path)
    {
        var name = System.IO.Path.GetFileNameWithoutExtension(path);
        // Names DuckDB keeps for itself; a file called memory.duckdb gets another.
        return name.Length == 0 || name is "memory" or "system" or "temp" ? "ingest" : name;
    }

    private static string QuoteIdentifier(string name) => $"\"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    /// <summary>
    /// Checkpoints, so the file alone holds every committed row, and closes. The file stays
    /// locked until every connection handed out has been disposed too.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (Path == ":memory:")
        {
            _handle.Dispose();
            return;
        }
        try
        {
            using var connection = ConnectCore();
            connection.Execute("CHECKPOINT");
        }
        catch (DuckDbException e)
        {
            // DuckDB checkpoints again when the last connection closes; this one is only earlier.
            LogCheckpointFailed(Path, e);
        }

        _handle.Dispose();
    }

    private static DuckDbDatabaseHandle OpenFile(string path, DuckDbOptions options, bool externalAccess = false)
    {
        NativeMethods.Configuration.Create(out var config);
        using (config)
        {
            // Queries come from users: they must not read or write files, load extensions or
            // change settings. The database's own file, WAL and spill files are unaffected.
            if (!externalAccess)
                Set(config, "enable_external_access", "false");
            Set(config, "autoinstall_known_extensions", "false");
            Set(config, "autoload_known_extensions", "false");
            Set(config, "memory_limit", options.MemoryLimit);
            // The WAL size at which the committing writer checkpoints (DuckDB's own rule). Big
            // commits bypass the WAL (see Open), so it fills mostly with partial row groups.
            Set(config, "checkpoint_threshold", options.CheckpointThreshold);
            // ZSTD for strings needs the v1.2 storage format; DuckDB defaults new files to an older one.
            Set(config, "storage_compatibility_version", "latest");
            if (!string.Equals(options.Compression, "auto", StringComparison.OrdinalIgnoreCase))
                Set(config, "force_compression", options.Compression);
            if (options.Threads > 0)
                Set(config, "threads", options.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture));

            if (NativeMethods.Startup.Open(path, out var database, config, out var error) == DuckDbState.Success)
                return database;
            database.Dispose();
            var message = NativeText.ReadAndFree(error) ?? "no reason given";
            throw new DuckDbException($"Could not open the DuckDB database {path}: {message}");
        }
    }

    private static void Set(DuckDbConfigHandle config, string name, string value)
    {
        if (NativeMethods.Configuration.Set(config, name, value) != DuckDbState.Success)
            throw new DuckDbException($"DuckDB refused the setting {name} = '{value}'.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Opened DuckDB {Version} database {Path}")]
    private partial void LogOpened(string path, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "DuckDb:ZstdLevel {Level} has no effect: libingest_zstd_level.so, which the build compiles with cc, is not next to the node, so DuckDB compresses at its own level {DuckDbLevel}")]
    private static partial void LogZstdLevelUnavailable(ILogger logger, int level, int duckDbLevel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not checkpoint DuckDB database {Path} while closing")]
    private partial void LogCheckpointFailed(string path, Exception exception);
}
