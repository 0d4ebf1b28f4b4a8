/*
 * DuckDB's ZSTD level, which DuckDB 1.5 offers no setting for.
 *
 * DuckDB compresses every ZSTD column segment at duckdb_zstd::ZSTD_defaultCLevel(), which returns
 * 3, and libduckdb.so calls that function through its procedure linkage table. Loaded with
 * RTLD_GLOBAL before DuckDB first compresses, the definition below takes the place of DuckDB's
 * own, so the level becomes whatever ingest_zstd_set_level last set (DuckDbOptions.ZstdLevel).
 * A thread that called ingest_zstd_set_thread_level gets its own level instead, for what DuckDB
 * compresses on that thread: the sink's catch-up checkpoints (DuckDbOptions.CatchUpZstdLevel).
 * ingest_zstd_level_calls counts DuckDB's calls, which shows that the substitution took.
 *
 * Built by silo/Ingest.Silo.csproj (target BuildZstdLevel) next to libduckdb.so.
 */
#include <stdatomic.h>

static atomic_int level = 3;
static atomic_long calls;
static _Thread_local int thread_level;
static _Thread_local int thread_level_set;

void ingest_zstd_set_level(int value)
{
    atomic_store_explicit(&level, value, memory_order_relaxed);
}

void ingest_zstd_set_thread_level(int value)
{
    thread_level = value;
    thread_level_set = 1;
}

long ingest_zstd_level_calls(void)
{
    return atomic_load_explicit(&calls, memory_order_relaxed);
}

/* int duckdb_zstd::ZSTD_defaultCLevel(), as libduckdb.so's C++ names it. */
int ingest_zstd_default_level(void) __asm__("_ZN11duckdb_zstd18ZSTD_defaultCLevelEv");

int ingest_zstd_default_level(void)
{
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    return thread_level_set ? thread_level : atomic_load_explicit(&level, memory_order_relaxed);
}
