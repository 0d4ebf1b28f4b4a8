namespace Ingest.Contracts;

/// <summary>Identifies one stream, and so one grain activation.</summary>
public readonly record struct StreamKey
{
    public const int MaxLength = 128;

    public StreamKey(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        if (value.Length > MaxLength)
            throw new ArgumentException($"A stream key is at most {MaxLength} characters.", nameof(value));
        Value = value;
    }

    public string Value { get; }

    /// <summary>A fresh key; version 7 so keys sort by the time their stream opened.</summary>
    public static StreamKey New() => new(Guid.CreateVersion7().ToString());

    public override string ToString() => Value;
}
