namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>A prepared statement; parameters are numbered from 1.</summary>
internal sealed class DuckDbPreparedStatement : IDisposable
{
    private readonly DuckDbPreparedStatementHandle _handle;

    private DuckDbPreparedStatement(DuckDbPreparedStatementHandle handle) => _handle = handle;

    public DuckDbStatementType StatementType => NativeMethods.PreparedStatements.StatementType(_handle);

    public int ColumnCount => (int)NativeMethods.PreparedStatements.ColumnCount(_handle);

    /// <summary>Takes ownership of a freshly prepared statement, throwing DuckDB's error if preparing failed.</summary>
    public static DuckDbPreparedStatement Checked(DuckDbPreparedStatementHandle handle)
    {
        var error = handle.IsInvalid ? "DuckDB could not prepare the statement." : NativeText.Read(NativeMethods.PreparedStatements.Error(handle));
        if (error is null)
            return new DuckDbPreparedStatement(handle);
        handle.Dispose();
        throw new DuckDbException(error);
    }

    public string ColumnName(int column) =>
        NativeText.ReadAndFree(NativeMethods.PreparedStatements.ColumnName(_handle, (ulong)column)) ?? string.Empty;

    public DuckDbType ColumnType(int column) => NativeMethods.PreparedStatements.ColumnType(_handle, (ulong)column);

    public void BindVarchar(int index, string value) =>
        Check(NativeMethods.BindValues.BindVarchar(_handle, (ulong)index, value), index);

    public void BindInt64(int index, long value) =>
        Check(NativeMethods.BindValues.BindInt64(_handle, (ulong)index, value), index);

    public void BindTimestampTz(int index, DateTimeOffset value) =>
        Check(NativeMethods.BindValues.BindTimestampTz(_handle, (ulong)index, DuckDbTimestamp.From(value)), index);

    public void BindNull(int index) => Check(NativeMethods.BindValues.BindNull(_handle, (ulong)index), index);

    /// <summary>Runs the statement and materialises its result.</summary>
    public DuckDbResultHandle Execute() => Run(streaming: false);

    /// <summary>Runs the statement; rows are produced as chunks are fetched, so memory stays bounded.</summary>
    public DuckDbResultHandle ExecuteStreaming() => Run(streaming: true);

    public void ExecuteNonQuery() => Run(streaming: false).Dispose();

    public void Dispose() => _handle.Dispose();

    private DuckDbResultHandle Run(bool streaming)
    {
        var result = new DuckDbResultHandle();
        var state = streaming
            ? NativeMethods.PreparedStatements.ExecuteStreaming(_handle, result)
            : NativeMethods.PreparedStatements.Execute(_handle, result);
        if (state == DuckDbState.Success)
            return result;
        using (result)
            throw result.Failure();
    }

    private void Check(DuckDbState state, int index)
    {
        if (state != DuckDbState.Success)
        {
            var error = NativeText.Read(NativeMethods.PreparedStatements.Error(_handle));
            throw new DuckDbException(error ?? $"DuckDB could not bind parameter {index}.");
        }
    }
}
