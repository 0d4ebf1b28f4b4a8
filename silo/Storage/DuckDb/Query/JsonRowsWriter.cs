using System.Buffers;
using System.IO.Pipelines;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Query;

/// <summary>Rows that DuckDB already rendered as JSON objects (<c>to_json</c>), copied through.</summary>
internal sealed class JsonRowsWriter(bool asArray) : QueryResultWriter
{
    private bool _any;

    public override void WriteStart(PipeWriter output)
    {
        if (asArray)
            output.Write("["u8);
    }

    public override void WriteRows(DuckDbDataChunkHandle chunk, int rows, PipeWriter output)
    {
        var column = new DuckDbColumn(chunk, 0);
        for (var row = 0; row < rows; row++)
        {
            if (asArray && _any)
                output.Write(","u8);
            output.Write(column.IsNull(row) ? "null"u8 : column.GetBytes(row));
            if (!asArray)
                output.Write("\n"u8);
            _any = true;
        }
    }

    public override void WriteEnd(PipeWriter output)
    {
        if (asArray)
            output.Write("]"u8);
    }
}
