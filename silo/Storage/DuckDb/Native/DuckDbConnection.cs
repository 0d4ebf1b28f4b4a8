namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>A connection to the database. Not safe for concurrent use: one caller at a time.</summary>
internal sealed class DuckDbConnection(DuckDbConnectionHandle handle) : IDisposable
{
    public DuckDbConnectionHandle Handle { get; } = handle;

    /// <summary>Runs SQL whose result does not matter (DDL, transaction control, ...).</summary>
    public void Execute(string sql)
    {
        using var result = new DuckDbResultHandle();
        if (NativeMethods.Query.Execute(Handle, sql, result) != DuckDbState.Success)
            throw result.Failure();
    }

    public DuckDbPreparedStatement Prepare(string sql)
    {
        NativeMethods.PreparedStatements.Prepare(Handle, sql, out var statement);
        return DuckDbPreparedStatement.Checked(statement);
    }

    public DuckDbExtractedStatements ExtractStatements(string sql)
    {
        var count = NativeMethods.ExtractStatements.Extract(Handle, sql, out var statements);
        return new DuckDbExtractedStatements(this, statements, (int)count);
    }

    public DuckDbAppender CreateAppender(string table)
    {
        var state = NativeMethods.Appender.Create(Handle, catalog: null, schema: null, table, out var appender);
        return DuckDbAppender.Checked(appender, state);
    }

    /// <summary>An appender whose rows feed <paramref name="query"/> as table <paramref name="tableName"/>.</summary>
    /// <param name="columnNames">UTF-8, NUL-terminated, one per type; they must outlive the call only.</param>
    public unsafe DuckDbAppender CreateQueryAppender(string query, string tableName, ReadOnlySpan<IntPtr> types, byte** columnNames)
    {
        fixed (IntPtr* typePointers = types)
        {
            var state = NativeMethods.Appender.CreateQuery(
                Handle, query, (ulong)types.Length, typePointers, tableName, columnNames, out var appender);
            return DuckDbAppender.Checked(appender, state);
        }
    }

    /// <summary>Stops whatever this connection is running; the only call allowed from another thread.</summary>
    public void Interrupt() => NativeMethods.Startup.Interrupt(Handle);

    public void Dispose() => Handle.Dispose();
}
