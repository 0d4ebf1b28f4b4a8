using Ingest.Silo.Storage.DuckDb.Sink;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Storage.DuckDb.Sink;

/// <summary>The WAL's second name through a checkpoint, on real files.</summary>
public sealed class RetiredWalTests
{
    [Fact]
    public void A_WAL_replaced_while_it_has_a_second_name_lives_on_under_it_until_freed()
    {
        using var directory = new TempDirectory();
        var wal = directory.File("db.wal");
        File.WriteAllText(wal, "checkpointed");
        var retired = new RetiredWal(wal);

        Assert.Null(retired.Keep());
        // One file under two names: what the writer appends after the link is under both.
        File.AppendAllText(wal, " and more");
        Assert.Equal("checkpointed and more", File.ReadAllText(retired.Path));
        // What DuckDB does at a checkpoint's end: the WAL written meanwhile replaces it.
        File.WriteAllText(wal + ".checkpoint", "newer");
        File.Move(wal + ".checkpoint", wal, overwrite: true);
        Assert.Equal("newer", File.ReadAllText(wal));
        Assert.Equal("checkpointed and more", File.ReadAllText(retired.Path));

        retired.Free();
        Assert.False(File.Exists(retired.Path));
        Assert.Equal("newer", File.ReadAllText(wal));
    }

    [Fact]
    public void A_second_name_left_by_a_crash_goes_and_the_WAL_stays()
    {
        using var directory = new TempDirectory();
        var wal = directory.File("db.wal");
        File.WriteAllText(wal, "live");
        File.WriteAllText(wal + RetiredWal.Suffix, "left by a crash");

        var retired = new RetiredWal(wal);

        Assert.False(File.Exists(retired.Path));
        Assert.Equal("live", File.ReadAllText(wal));
        // A leftover made by an earlier Keep (the same file under both names) goes too.
        Assert.Null(retired.Keep());
        Assert.Null(new RetiredWal(wal).Keep());
        Assert.Equal("live", File.ReadAllText(retired.Path));
    }

    [Fact]
    public void Without_a_WAL_there_is_nothing_to_name_until_there_is_one()
    {
        using var directory = new TempDirectory();
        var wal = directory.File("db.wal");
        var retired = new RetiredWal(wal);

        Assert.Null(retired.Keep());
        Assert.False(File.Exists(retired.Path));

        File.WriteAllText(wal, "first commit");
        Assert.Null(retired.Keep());
        Assert.Equal("first commit", File.ReadAllText(retired.Path));
    }

    [Fact]
    public void Freeing_the_second_name_of_a_WAL_not_yet_replaced_leaves_the_WAL_whole()
    {
        using var directory = new TempDirectory();
        var wal = directory.File("db.wal");
        var content = new byte[3 * RetiredWal.FreeStep + 123];
        Random.Shared.NextBytes(content);
        File.WriteAllBytes(wal, content);
        var retired = new RetiredWal(wal);
        Assert.Null(retired.Keep());

        // A checkpoint that failed: DuckDB never replaced the WAL, so both names are the live WAL.
        retired.Free();

        Assert.False(File.Exists(retired.Path));
        Assert.Equal(content, File.ReadAllBytes(wal));
    }

    [Fact]
    public void A_replaced_WAL_is_given_back_a_step_at_a_time_before_its_last_name_goes()
    {
        using var directory = new TempDirectory();
        var wal = directory.File("db.wal");
        File.WriteAllBytes(wal, new byte[5 * RetiredWal.FreeStep + 1]);
        var retired = new RetiredWal(wal);
        Assert.Null(retired.Keep());
        File.WriteAllText(wal + ".checkpoint", "newer");
        File.Move(wal + ".checkpoint", wal, overwrite: true);
        // Held open, the old WAL outlives its name, so its length shows what was given back first.
        using var old = File.OpenHandle(retired.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

        retired.Free();

        Assert.False(File.Exists(retired.Path));
        Assert.InRange(RandomAccess.GetLength(old), 0, RetiredWal.FreeStep);
        Assert.Equal("newer", File.ReadAllText(wal));
    }
}
