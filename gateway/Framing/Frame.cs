namespace Ingest.Gateway.Framing;

internal enum FrameKind
{
    /// <summary>A complete JSON value at <see cref="Frame.Start"/>.</summary>
    Event,

    /// <summary>Bad input, described by <see cref="Frame.Error"/>.</summary>
    Rejected,

    /// <summary>No complete value yet: read more and call again.</summary>
    NeedMoreData,

    /// <summary>The final block held nothing more.</summary>
    End,
}

/// <summary>One step of <see cref="JsonEventFramer"/>: what was found and how much input it used.</summary>
/// <param name="Consumed">Bytes of the input that are done with and may be dropped.</param>
/// <param name="Line">The 1-based line the event or error starts on.</param>
internal readonly record struct Frame(FrameKind Kind, int Consumed, int Start, int Length, long Line, string? Error);
