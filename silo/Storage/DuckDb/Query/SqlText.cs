namespace Ingest.Silo.Storage.DuckDb.Query;

/// <summary>
/// The little lexing the query endpoint needs around DuckDB's parser: a statement's leading
/// keyword, and its text without what cannot go inside a subquery.
/// </summary>
internal static class SqlText
{
    /// <summary>Leading keywords of statements that write or change state.</summary>
    private static readonly HashSet<string> Changing = new(StringComparer.OrdinalIgnoreCase)
    {
        "ABORT", "ALTER", "ANALYZE", "ATTACH", "BEGIN", "CALL", "CHECKPOINT", "COMMIT", "COPY", "CREATE",
        "DEALLOCATE", "DELETE", "DETACH", "DROP", "END", "EXECUTE", "EXPORT", "FORCE", "IMPORT", "INSERT",
        "INSTALL", "LOAD", "MERGE", "PRAGMA", "PREPARE", "RESET", "ROLLBACK", "SET", "START", "TRUNCATE",
        "UPDATE", "UPSERT", "USE", "VACUUM",
    };

    /// <summary>
    /// The statement's first keyword in upper case when it is one that changes state, else null.
    /// Used only to name what is refused: DuckDB's statement type decides what runs.
    /// </summary>
    public static string? ChangingKeyword(string sql)
    {
        var text = SkipComments(sql);
        while (!text.IsEmpty && text[0] == '(')
            text = SkipComments(text[1..]);
        var length = 0;
        while (length < text.Length && char.IsAsciiLetter(text[length]))
            length++;
        var word = text[..length].ToString();
        return Changing.Contains(word) ? word.ToUpperInvariant() : null;
    }

    /// <summary>The statement without trailing semicolons, so it can sit inside a subquery.</summary>
    public static string Body(string sql) => sql.TrimEnd().TrimEnd(';').TrimEnd();

    /// <summary>
    /// The statement also without comments after its last semicolon (<c>SELECT 1; -- note</c>),
    /// or null when there are none. A second choice: if the semicolon was inside a string
    /// literal, the cut leaves the literal unterminated and DuckDB refuses the text.
    /// </summary>
    public static string? BodyWithoutTrailingComments(string sql)
    {
        var body = Body(sql);
        var cut = body;
        while (true)
        {
            var semicolon = cut.LastIndexOf(';');
            if (semicolon < 0 || !SkipComments(cut.AsSpan(semicolon + 1)).IsEmpty)
                break;
            cut = Body(cut[..semicolon]);
        }
        return cut.Length == body.Length ? null : cut;
    }

    /// <summary>Skips whitespace and complete comments; stops at anything else, or an unclosed comment.</summary>
    private static ReadOnlySpan<char> SkipComments(ReadOnlySpan<char> text)
    {
        while (true)
        {
            text = text.TrimStart();
            if (text.StartsWith("--"))
            {
                var end = text.IndexOfAny('\n', '\r');
                text = end < 0 ? [] : text[end..];
            }
            else if (text.StartsWith("/*"))
            {
                var end = text.IndexOf("*/");
                if (end < 0)
                    return text;
                text = text[(end + 2)..];
            }
            else
            {
                return text;
            }
        }
    }
}
