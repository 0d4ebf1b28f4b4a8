namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>
/// An appender on one table. Rows go in as whole data chunks; the appender buffers them and
/// writes them into the connection's current transaction on <see cref="Flush"/>.
/// </summary>
internal sealed class DuckDbAppender : IDisposable
{
    private readonly DuckDbAppenderHandle _handle;

    private DuckDbAppender(DuckDbAppenderHandle handle) => _handle = handle;

    public int ColumnCount => (int)NativeMethods.Appender.ColumnCount(_handle);

    public static DuckDbAppender Checked(DuckDbAppenderHandle handle, DuckDbState state)
    {
        if (state == DuckDbState.Success && !handle.IsInvalid)
            return new DuckDbAppender(handle);
        using (handle)
            throw Failure(handle, "DuckDB could not create the appender.");
    }

    public DuckDbLogicalTypeHandle ColumnType(int column) => NativeMethods.Appender.ColumnType(_handle, (ulong)column);

    public void Append(DuckDbDataChunkHandle chunk)
    {
        if (NativeMethods.Appender.AppendDataChunk(_handle, chunk) != DuckDbState.Success)
            throw Failure(_handle, "DuckDB could not append the data chunk.");
    }

    /// <summary>Writes the buffered rows; after a failure the appender is unusable.</summary>
    public void Flush()
    {
        if (NativeMethods.Appender.Flush(_handle) != DuckDbState.Success)
            throw Failure(_handle, "DuckDB could not flush the appender.");
    }

    public void Dispose() => _handle.Dispose();

    private static DuckDbException Failure(DuckDbAppenderHandle handle, string fallback) =>
        handle.IsInvalid ? new DuckDbException(fallback) : NativeText.Error(NativeMethods.Appender.Error(handle), fallback);
}
