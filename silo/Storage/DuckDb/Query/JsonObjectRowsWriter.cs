using System.Buffers;
using System.IO.Pipelines;
using System.Text.Encodings.Web;
using System.Text.Json;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Query;

/// <summary>Text columns (EXPLAIN's) written as JSON objects of strings.</summary>
internal sealed class JsonObjectRowsWriter : QueryResultWriter
{
    private readonly JsonEncodedText[] _names;
    private readonly bool _asArray;
    private readonly DuckDbColumn[] _columns;
    private Utf8JsonWriter? _json;
    private bool _any;

    public JsonObjectRowsWriter(IReadOnlyList<string> names, bool asArray)
    {
        _asArray = asArray;
        _names = new JsonEncodedText[names.Count];
        for (var i = 0; i < _names.Length; i++)
            _names[i] = JsonEncodedText.Encode(names[i], JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
        _columns = new DuckDbColumn[names.Count];
    }

    public override void WriteStart(PipeWriter output)
    {
        // Relaxed escaping keeps plans' box-drawing characters readable; the output is never HTML.
        _json = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        if (_asArray)
            output.Write("["u8);
    }

    public override void WriteRows(DuckDbDataChunkHandle chunk, int rows, PipeWriter output)
    {
        var json = _json!;
        for (var i = 0; i < _columns.Length; i++)
            _columns[i] = new DuckDbColumn(chunk, i);
        for (var row = 0; row < rows; row++)
        {
            if (_asArray && _any)
                output.Write(","u8);
            json.Reset(output);
            json.WriteStartObject();
            for (var i = 0; i < _columns.Length; i++)
            {
                if (_columns[i].IsNull(row))
                    json.WriteNull(_names[i]);
                else
                    json.WriteString(_names[i], _columns[i].GetBytes(row));
            }
            json.WriteEndObject();
            json.Flush();
            if (!_asArray)
                output.Write("\n"u8);
            _any = true;
        }
    }

    public override void WriteEnd(PipeWriter output)
    {
        if (_asArray)
            output.Write("]"u8);
        _json?.Dispose();
    }
}
