namespace Ingest.Silo.Storage.DuckDb;

/// <summary>Where and how the DuckDB storage runs; bound from the <c>DuckDb</c> configuration section.</summary>
public sealed class DuckDbOptions
{
    public const string Section = "DuckDb";

    /// <summary>The database file; a relative path is resolved against the working directory.</summary>
    public string Path { get; set; } = "data/ingest.duckdb";

    /// <summary>DuckDB's <c>memory_limit</c>, e.g. <c>1GB</c> or <c>512MiB</c>.</summary>
    public string MemoryLimit { get; set; } = "1GB";

    /// <summary>
    /// DuckDB's <c>checkpoint_threshold</c>: the WAL size at which the commit that crosses it also
    /// checkpoints, while every other commit waits. A backstop: <see cref="BackgroundCheckpointBytes"/>
    /// normally checkpoints long before, beside the writer instead of inside a commit.
    /// </summary>
    public string CheckpointThreshold { get; set; } = "1GB";

    /// <summary>
    /// The WAL size at which a connection of the event sink's own checkpoints the database, while
    /// the writer goes on committing (its commits only append). Small commits go to the WAL, and a
    /// checkpoint moves them into the file compressed; doing that often and in the background keeps
    /// each checkpoint short, where one checkpoint of a gigabyte stopped every commit for seconds.
    /// 0 turns it off, leaving <see cref="CheckpointThreshold"/> alone.
    /// </summary>
    public long BackgroundCheckpointBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>
    /// The niceness (0 to 19, Linux) of the thread that runs those background checkpoints: how far
    /// it stands back when sockets, grains and the writer want the cores. A checkpoint takes a core
    /// for a few hundred milliseconds; at 19 it runs on what they leave, so the commits beside it
    /// keep their pace. 0 runs it as any other thread.
    /// </summary>
    public int CheckpointNice { get; set; } = 19;

    /// <summary>
    /// Runs the thread of those background checkpoints under Linux's <c>SCHED_IDLE</c> policy,
    /// which supersedes <see cref="CheckpointNice"/> while set. The kernel then counts a core that
    /// runs only the checkpointer as idle, so a socket thread or the writer that wakes takes that
    /// core at once. At nice 19 alone it ran the checkpointer on one core while the writer queued on
    /// the other, 35–60 ms of every 100 during a checkpoint at half the maximum rate (BENCHMARKS.md,
    /// sixteenth session). False leaves the thread at <see cref="CheckpointNice"/>.
    /// </summary>
    public bool CheckpointIdle { get; set; } = true;

    /// <summary>
    /// The WAL size past which a background checkpoint runs at the default priority instead of
    /// <see cref="CheckpointNice"/> and <see cref="CheckpointIdle"/>. Near the node's limit for
    /// long, idle CPU runs out: the WAL then grows faster than it is checkpointed, every checkpoint
    /// is longer than the last, and commits stall at their ends (at 570,000 WebSocket events/s for
    /// 14–18 s the WAL reached 160–342 MB without this, under 128 MB with it). 0 never does.
    /// </summary>
    public long CheckpointCatchUpBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// DuckDB's <c>force_compression</c>. ZSTD compresses wide JSON events better than DuckDB's
    /// own choice (FSST and dictionaries, tried one after another on every column) and costs half
    /// its CPU, which is most of what ingestion spends. <c>auto</c> restores DuckDB's choice.
    /// Columns ZSTD cannot hold (integers, timestamps) keep DuckDB's choice either way.
    /// </summary>
    public string Compression { get; set; } = "zstd";

    /// <summary>
    /// The level ZSTD compresses the database file at, from -7 (fastest, largest) to 22; DuckDB
    /// itself always uses 3. A cluster's Parquet segments keep DuckDB's Parquet default.
    /// At 1 the checkpoints that compress the events took a fifth less CPU than at 3 for a file of
    /// the same size, and WebSocket ingestion flat out ran 6–44% faster, typically 11–14%, since
    /// the writer compresses large commits itself (BENCHMARKS.md, twenty-ninth session). Set
    /// through <c>libingest_zstd_level.so</c>, which the build compiles with <c>cc</c>; without it
    /// the node stays at 3 and says so. One level serves the whole process.
    /// </summary>
    public int ZstdLevel { get; set; } = 1;

    /// <summary>
    /// The level ZSTD compresses at in the catch-up checkpoints (<see cref="CheckpointCatchUpBytes"/>),
    /// from -7 to 22; the same as <see cref="ZstdLevel"/> turns the difference off. A catch-up runs
    /// only when the node has been near its limit for long and checkpoints fall behind: then it
    /// compresses the events that came through the WAL faster, into more blocks, and every other
    /// write (the writer's own row groups, the checkpoints on idle CPU) stays at
    /// <see cref="ZstdLevel"/>. At -7 a checkpoint took a fifth less CPU than at 1 for 40% more file
    /// (BENCHMARKS.md, thirtieth session). Needs <c>libingest_zstd_level.so</c>, as
    /// <see cref="ZstdLevel"/> does, and <see cref="Threads"/> at 1, so that the catch-up thread
    /// compresses alone.
    /// </summary>
    public int CatchUpZstdLevel { get; set; } = -7;

    /// <summary>
    /// Rows per row group of the database file (DuckDB's default is 122,880). A commit of at
    /// least this many rows is written compressed straight into the file by the writer, inside the
    /// commit, with any partial row group at its end as a small row group of its own; a smaller
    /// commit goes to the WAL and a background checkpoint compresses it. With
    /// <see cref="CommitWholeRowGroups"/> the writer cuts its commits at whole row groups. At 8,192
    /// a row group fills in 13 ms at 640,000 events/s, so few events wait for one, and paced there
    /// for 11 s the node checkpointed once or twice instead of 25–30 times (BENCHMARKS.md,
    /// thirty-first session). Flat out, small row groups cost the writer more per event than
    /// 65,536 did: 5–15% of the rate.
    /// </summary>
    public int RowGroupSize { get; set; } = 8_192;

    /// <summary>
    /// Cuts each commit of at least <see cref="RowGroupSize"/> events at a whole number of row
    /// groups, which DuckDB writes straight into the file, and holds the events after them back
    /// when those expected within one and a half commit intervals would complete a row group with
    /// them (for two intervals at most). When a caller waits for a flush, everything taken goes in
    /// one commit, with any partial row group at its end as a small one. A stream's flush may
    /// then be stored in two commits, its row saying how far the first got, and it is acknowledged
    /// once both are. Checkpoints of what went through the WAL cost 0.42–0.50 s of CPU per million
    /// events on top of the commits; row groups the writer compresses itself need none
    /// (BENCHMARKS.md, thirty-first session). False commits whatever is taken at once, as one
    /// transaction.
    /// </summary>
    public bool CommitWholeRowGroups { get; set; } = true;

    /// <summary>
    /// The block size, in bytes, of a database file this node creates: a power of two from 16,384
    /// to 262,144 (DuckDB's default). A file keeps the block size it was made with. Each column of
    /// a row group written straight into the file ends in a block of its own, so at DuckDB's
    /// 256 KiB a file of 16,384-row groups was a third larger than one of 65,536; at 64 KiB, 8,192-
    /// and 16,384-row groups took 48.2 and 48.1 MB per million events against 48.8 (BENCHMARKS.md,
    /// thirty-first session).
    /// </summary>
    public int BlockSize { get; set; } = 65_536;

    /// <summary>
    /// Group commit on the grains' flush clock. Every stream's flush timer fires on the same ticks
    /// (<c>Silo:FlushMaxDelay</c> apart), and the writer starts a commit only at a tick plus
    /// <see cref="CommitGather"/>, taking every flush that came by then. Each commit then carries a
    /// whole tick of every stream, rather than whatever had come since the last commit: at 570,000
    /// WebSocket events/s on 100 streams, 50 commits a second instead of 150–290. Null (the
    /// default) takes <c>Silo:FlushMaxDelay</c>; zero commits whatever is queued at once.
    /// </summary>
    /// <remarks>
    /// A flush that its caller waits for (a POST's end, a close, an explicit flush) and a queue of
    /// <see cref="CommitEvents"/> start a commit at once, as do flushes whose slot passed while the
    /// writer was busy.
    /// </remarks>
    public TimeSpan? CommitInterval { get; set; }

    /// <summary>How long after each tick the writer waits for that tick's flushes to come in before it commits.</summary>
    public TimeSpan CommitGather { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// A queue of this many events (with those held back) starts a commit at once, whatever the
    /// clock; 0: every flush does. At <see cref="RowGroupSize"/>, each row group is committed as
    /// soon as it is complete.
    /// </summary>
    public int CommitEvents { get; set; } = 8_192;

    /// <summary>
    /// DuckDB's threads; 0 leaves DuckDB's default (one per core). One, so that ingestion keeps the
    /// other cores: DuckDB's worker spun waiting for tasks and let a checkpoint take every core
    /// (BENCHMARKS.md, "DuckDB on one thread"). Queries then run on one core.
    /// </summary>
    public int Threads { get; set; } = 1;

    /// <summary>
    /// Payload bytes the event sink holds waiting for the writer; writes beyond it wait. The
    /// group being written is not counted, so up to twice this is in memory at once.
    /// </summary>
    public long MaxQueuedBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Connections that serve read-only SQL queries at the same time.</summary>
    public int QueryConnections { get; set; } = 4;

    /// <summary>What is wrong with these options, in words a user can act on; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Path))
            errors.Add($"{Section}:{nameof(Path)} must name the database file, e.g. \"data/ingest.duckdb\".");
        if (string.IsNullOrWhiteSpace(MemoryLimit))
            errors.Add($"{Section}:{nameof(MemoryLimit)} must be a size such as \"1GB\" or \"512MiB\".");
        if (Threads < 0)
            errors.Add($"{Section}:{nameof(Threads)} must be 0 (DuckDB's default) or a positive number of threads; it is {Threads}.");
        if (RowGroupSize < 2048 || RowGroupSize % 2048 != 0 || RowGroupSize > 1_048_576)
            errors.Add($"{Section}:{nameof(RowGroupSize)} must be a multiple of 2048 from 2048 to 1048576; it is {RowGroupSize}.");
        if (BlockSize < 16_384 || BlockSize > 262_144 || (BlockSize & (BlockSize - 1)) != 0)
            errors.Add($"{Section}:{nameof(BlockSize)} must be a power of two from 16384 to 262144; it is {BlockSize}.");
        if (MaxQueuedBytes < 1024 * 1024)
            errors.Add($"{Section}:{nameof(MaxQueuedBytes)} must be at least 1048576 (1 MiB); it is {MaxQueuedBytes}.");
        if (CommitEvents < 0)
            errors.Add($"{Section}:{nameof(CommitEvents)} must be 0 (commit at once) or a number of events; it is {CommitEvents}.");
        if (CommitInterval is { } interval && (interval < TimeSpan.Zero || interval > TimeSpan.FromSeconds(10)))
            errors.Add($"{Section}:{nameof(CommitInterval)} must be from 00:00:00 (commit at once) to 00:00:10; it is {interval}.");
        if (CommitGather < TimeSpan.Zero || (CommitInterval is { } period && period > TimeSpan.Zero && CommitGather >= period))
            errors.Add($"{Section}:{nameof(CommitGather)} must be from 00:00:00 to less than {nameof(CommitInterval)}; it is {CommitGather}.");
        if (BackgroundCheckpointBytes < 0)
            errors.Add($"{Section}:{nameof(BackgroundCheckpointBytes)} must be 0 (off) or a WAL size in bytes; it is {BackgroundCheckpointBytes}.");
        if (CheckpointCatchUpBytes < 0)
            errors.Add($"{Section}:{nameof(CheckpointCatchUpBytes)} must be 0 (never) or a WAL size in bytes; it is {CheckpointCatchUpBytes}.");
        if (CheckpointNice is < 0 or > 19)
            errors.Add($"{Section}:{nameof(CheckpointNice)} must be from 0 (as any other thread) to 19 (only what is left over); it is {CheckpointNice}.");
        if (ZstdLevel is < -7 or > 22)
            errors.Add($"{Section}:{nameof(ZstdLevel)} must be from -7 (fastest) to 22 (smallest); it is {ZstdLevel}.");
        if (CatchUpZstdLevel is < -7 or > 22)
            errors.Add($"{Section}:{nameof(CatchUpZstdLevel)} must be from -7 (fastest) to 22 (smallest); it is {CatchUpZstdLevel}.");
        if (QueryConnections is < 1 or > 64)
            errors.Add($"{Section}:{nameof(QueryConnections)} must be between 1 and 64; it is {QueryConnections}.");
        return errors;
    }
}
