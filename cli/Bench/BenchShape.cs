namespace Ingest.Cli.Bench;

/// <summary>How generated events are built; every shape varies its values from one event to the next.</summary>
internal enum BenchShape
{
    /// <summary>A dozen fields, one nested object (http): a typical wide event.</summary>
    Wide,

    /// <summary>Objects three and four deep and arrays of objects: resource, span, attributes, span events.</summary>
    Nested,

    /// <summary>A few top-level scalars, like a log line.</summary>
    Flat,
}
