namespace Ingest.Gateway.Framing;

/// <summary>Why one event of a stream was refused.</summary>
/// <param name="Event">The event's 1-based position among everything the client sent on the stream.</param>
/// <param name="Line">For POST bodies, the line it started on; 0 for WebSocket messages.</param>
internal sealed record EventRejection(long Event, long Line, string Reason)
{
    public override string ToString() => Line > 0 ? $"event {Event} (line {Line}): {Reason}" : $"event {Event}: {Reason}";
}
