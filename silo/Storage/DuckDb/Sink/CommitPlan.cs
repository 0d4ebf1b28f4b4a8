namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// How the writer commits what it took: first a whole number of row groups, which DuckDB writes
/// compressed straight into the file, then perhaps the events after them, which go to the WAL
/// for a checkpoint to compress later, and the rest held for the next commit.
/// </summary>
/// <remarks>
/// <para>
/// DuckDB writes a commit of at least a row group into the file, with any partial row group at its
/// end as a small row group of its own; a smaller commit goes to the WAL, and a checkpoint reads it
/// back and compresses it. Near the node's limit those checkpoints cost the writer and the sockets
/// a third of their CPU, and every acknowledgement waited while one ran. Commits cut at whole row
/// groups cost the writer no more than WAL commits do, and leave nothing to checkpoint.
/// </para>
/// <para>
/// The events after the last whole row group wait for a later commit when those expected soon
/// would complete a row group with them: the writer commits as soon as held and queued events
/// make one. The sink bounds the wait (two commit intervals), after which the held events go to
/// the WAL with whatever is queued. Whenever a caller waits for a flush or the sink closes,
/// everything goes at once, in one commit.
/// </para>
/// </remarks>
/// <param name="Aligned">Events of the first commit: a whole number of row groups; 0 for none.</param>
/// <param name="Then">Events committed after it, before the rest is held; <see cref="long.MaxValue"/> for all the rest.</param>
internal readonly record struct CommitPlan(long Aligned, long Then)
{
    /// <summary>Everything in one commit, as when commits are not cut.</summary>
    public static readonly CommitPlan All = new(0, long.MaxValue);

    /// <param name="held">Events at the front of the group that an earlier commit held back.</param>
    /// <param name="heldMayWait">Whether those may be held back again: none has waited as long as the sink allows.</param>
    /// <param name="taken">Events the group holds after them.</param>
    /// <param name="expected">Events expected to come while held events may wait.</param>
    /// <param name="rowGroup">Rows per row group; 0 commits everything at once, uncut.</param>
    /// <param name="mayHold">False when a caller waits for a flush of the group, or the sink closes.</param>
    public static CommitPlan For(long held, bool heldMayWait, long taken, long expected, long rowGroup, bool mayHold)
    {
        if (rowGroup <= 0)
            return All;
        var total = held + taken;
        var aligned = total / rowGroup * rowGroup;
        // A caller waits: one commit, with any partial row group at its end written as a small
        // one, costs less than a second commit and a checkpoint of it.
        if (!mayHold)
            return All;
        // Past the row groups is only what may wait, so it waits if the next commit likely makes a row group of it.
        if (aligned >= held || heldMayWait)
            return total - aligned + expected >= rowGroup ? new(aligned, 0) : new(aligned, long.MaxValue);
        // Less than a row group, with events that have waited their turn: those go now.
        return taken + expected >= rowGroup ? new(0, held) : All;
    }
}
