using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Query;

/// <summary>RFC 4180 CSV: a header row, CRLF line ends, quotes only where needed, NULL as an empty field.</summary>
internal sealed class CsvRowsWriter(IReadOnlyList<string> names) : QueryResultWriter
{
    private static readonly SearchValues<byte> NeedsQuoting = SearchValues.Create(",\"\r\n"u8);

    private readonly DuckDbColumn[] _columns = new DuckDbColumn[names.Count];

    public override void WriteStart(PipeWriter output)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (i > 0)
                output.Write(","u8);
            WriteField(output, Encoding.UTF8.GetBytes(names[i]));
        }
        output.Write("\r\n"u8);
    }

    public override void WriteRows(DuckDbDataChunkHandle chunk, int rows, PipeWriter output)
    {
        for (var i = 0; i < _columns.Length; i++)
            _columns[i] = new DuckDbColumn(chunk, i);
        for (var row = 0; row < rows; row++)
        {
            for (var i = 0; i < _columns.Length; i++)
            {
                if (i > 0)
                    output.Write(","u8);
                if (!_columns[i].IsNull(row))
                    WriteField(output, _columns[i].GetBytes(row));
            }
            output.Write("\r\n"u8);
        }
    }

    public override void WriteEnd(PipeWriter output)
    {
    }

    private static void WriteField(PipeWriter output, ReadOnlySpan<byte> value)
    {
        // An empty string is quoted so that it reads back differently from NULL.
        if (value.Length > 0 && !value.ContainsAny(NeedsQuoting))
        {
            output.Write(value);
            return;
        }
        output.Write("\""u8);
        int quote;
        while ((quote = value.IndexOf((byte)'"')) >= 0)
        {
            output.Write(value[..(quote + 1)]);
            output.Write("\""u8);
            value = value[(quote + 1)..];
        }
        output.Write(value);
        output.Write("\""u8);
    }
}
