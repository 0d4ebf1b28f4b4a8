namespace Ingest.Silo.Storage.DuckDb.Native;

/// <summary>The statements a SQL text splits into, parsed but not yet bound.</summary>
internal sealed class DuckDbExtractedStatements(
    DuckDbConnection connection, DuckDbExtractedStatementsHandle handle, int count) : IDisposable
{
    /// <summary>How many statements the text holds; 0 when it does not parse or is empty.</summary>
    public int Count { get; } = count;

    /// <summary>The parser's message when <see cref="Count"/> is 0 because the text does not parse.</summary>
    public string? Error => handle.IsInvalid ? null : NativeText.Read(NativeMethods.ExtractStatements.Error(handle));

    public DuckDbPreparedStatement Prepare(int index)
    {
        NativeMethods.ExtractStatements.Prepare(connection.Handle, handle, (ulong)index, out var statement);
        return DuckDbPreparedStatement.Checked(statement);
    }

    public void Dispose() => handle.Dispose();
}
