using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Query;

/// <summary>
/// A user's statement, checked to be one read-only query, and the statement actually run for
/// it: wrapped so that every value arrives as text (VARCHAR), the only type the writers decode.
/// </summary>
internal sealed class QueryPlan : IDisposable
{
    // Unlikely to collide with a column of the user's query, which would shadow the row.
    private const string RowAlias = "ingest_query_row";

    private QueryPlan(DuckDbPreparedStatement statement, string[] columnNames, bool rowsAreJson)
    {
        Statement = statement;
        ColumnNames = columnNames;
        RowsAreJson = rowsAreJson;
    }

    public DuckDbPreparedStatement Statement { get; }

    /// <summary>The user's columns, in order.</summary>
    public IReadOnlyList<string> ColumnNames { get; }

    /// <summary>Each row is one VARCHAR holding a JSON object; otherwise one VARCHAR per user column.</summary>
    public bool RowsAreJson { get; }

    /// <exception cref="QueryRejectedException">The text is not exactly one read-only query, or does not bind.</exception>
    public static QueryPlan Create(DuckDbConnection connection, string sql, QueryResultFormat format)
    {
        var original = PrepareSingle(connection, sql, SqlText.ChangingKeyword(sql));
        string[] names;
        try
        {
            var type = original.StatementType;
            if (type is not (DuckDbStatementType.Select or DuckDbStatementType.Explain))
                throw Refused(SqlText.ChangingKeyword(sql) ?? Describe(type));

            names = new string[original.ColumnCount];
            for (var i = 0; i < names.Length; i++)
                names[i] = original.ColumnName(i);

            // EXPLAIN cannot be a subquery, but its columns are text already.
            if (type == DuckDbStatementType.Explain)
            {
                for (var i = 0; i < names.Length; i++)
                {
                    if (original.ColumnType(i) != DuckDbType.Varchar)
                        throw new QueryRejectedException($"Column {names[i]} of this EXPLAIN is not text and cannot be returned.");
                }
                return new QueryPlan(original, names, rowsAreJson: false);
            }
        }
        catch
        {
            original.Dispose();
            throw;
        }

        original.Dispose();
        var wrapped = PrepareWrapped(connection, sql, format, names.Length);
        // The wrapping must not have turned the text into something else; it is one SELECT or it goes.
        if (wrapped.StatementType != DuckDbStatementType.Select)
        {
            wrapped.Dispose();
            throw new QueryRejectedException("The query cannot run as a subquery; send a single SELECT statement.");
        }
        return new QueryPlan(wrapped, names, rowsAreJson: format != QueryResultFormat.Csv);
    }

    public void Dispose() => Statement.Dispose();

    private static DuckDbPreparedStatement PrepareWrapped(DuckDbConnection connection, string sql, QueryResultFormat format, int columns)
    {
        try
        {
            return PrepareSingle(connection, Wrap(SqlText.Body(sql), format, columns), keyword: null);
        }
        catch (QueryRejectedException first)
        {
            if (SqlText.BodyWithoutTrailingComments(sql) is { } body)
            {
                try
                {
                    return PrepareSingle(connection, Wrap(body, format, columns), keyword: null);
                }
                catch (QueryRejectedException)
                {
                }
            }

            // Reading pragmas prepare as SELECT but cannot be a subquery; their table functions can.
            if (SqlText.ChangingKeyword(sql) == "PRAGMA")
                throw new QueryRejectedException(
                    "PRAGMA cannot be run here; use its table function instead, e.g. SELECT * FROM pragma_table_info('events').", first);
            throw;
        }
    }

    /// <summary>
    /// The query as a subquery whose rows come out as text: one JSON object per row (JSON columns
    /// stay JSON), or each column cast to VARCHAR for CSV.
    /// </summary>
    internal static string Wrap(string body, QueryResultFormat format, int columns)
    {
        if (format != QueryResultFormat.Csv)
            return $"SELECT to_json({RowAlias}) FROM (\n{body}\n) AS {RowAlias}";

        // Positional aliases cope with duplicate or awkward column names.
        var select = new System.Text.StringBuilder("SELECT ");
        var aliases = new System.Text.StringBuilder();
        for (var i = 1; i <= columns; i++)
        {
            var separator = i == 1 ? "" : ", ";
            select.Append(separator).Append("CAST(").Append(RowAlias).Append(".c").Append(i).Append(" AS VARCHAR)");
            aliases.Append(separator).Append('c').Append(i);
        }
        return $"{select} FROM (\n{body}\n) AS {RowAlias}({aliases})";
    }

    private static DuckDbPreparedStatement PrepareSingle(DuckDbConnection connection, string sql, string? keyword)
    {
        using var statements = connection.ExtractStatements(sql);
        if (statements.Count == 0)
            throw new QueryRejectedException(statements.Error ?? "The query is empty: send one SELECT statement.");
        if (statements.Count > 1)
            throw new QueryRejectedException(
                $"The query holds {statements.Count} statements; the endpoint runs exactly one SELECT statement.");
        try
        {
            return statements.Prepare(0);
        }
        catch (DuckDbException e)
        {
            // Some writes fail to bind before their type is known (COPY to a file that may not be
            // touched); their leading keyword still says what they are.
            throw keyword is null ? new QueryRejectedException(e.Message, e) : Refused(keyword, e);
        }
    }

    private static QueryRejectedException Refused(string statement, Exception? inner = null)
    {
        var message = $"{statement} statements are not allowed: the query endpoint is read-only and runs one SELECT (or EXPLAIN) statement.";
        return inner is null ? new QueryRejectedException(message) : new QueryRejectedException(message, inner);
    }

    private static string Describe(DuckDbStatementType type) => type switch
    {
        DuckDbStatementType.VariableSet or DuckDbStatementType.Set => "SET",
        DuckDbStatementType.CreateFunc => "CREATE FUNCTION/MACRO",
        DuckDbStatementType.Transaction => "Transaction (BEGIN/COMMIT/ROLLBACK)",
        DuckDbStatementType.CopyDatabase => "COPY FROM DATABASE",
        DuckDbStatementType.UpdateExtensions => "UPDATE EXTENSIONS",
        DuckDbStatementType.MergeInto => "MERGE INTO",
        DuckDbStatementType.LogicalPlan => "Logical plan",
        DuckDbStatementType.Multi => "Multi-part",
        DuckDbStatementType.Invalid => "Unrecognised",
        _ => type.ToString().ToUpperInvariant(),
    };
}
