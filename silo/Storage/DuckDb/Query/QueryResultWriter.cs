using System.IO.Pipelines;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Query;

/// <summary>Turns a plan's text rows into one output format, a data chunk at a time.</summary>
internal abstract class QueryResultWriter
{
    public static QueryResultWriter Create(QueryResultFormat format, QueryPlan plan) => format switch
    {
        QueryResultFormat.Csv => new CsvRowsWriter(plan.ColumnNames),
        _ when plan.RowsAreJson => new JsonRowsWriter(asArray: format == QueryResultFormat.Json),
        _ => new JsonObjectRowsWriter(plan.ColumnNames, asArray: format == QueryResultFormat.Json),
    };

    /// <summary>Called once, when the first chunk (or the end) arrives, so failures before it leave the output untouched.</summary>
    public abstract void WriteStart(PipeWriter output);

    public abstract void WriteRows(DuckDbDataChunkHandle chunk, int rows, PipeWriter output);

    public abstract void WriteEnd(PipeWriter output);
}
