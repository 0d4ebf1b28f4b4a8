using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Ingest.Tests.Fakes;

/// <summary>Keeps every message logged at or above a level, for tests that check what an operator is told.</summary>
internal sealed class RecordingLogger<T>(LogLevel least = LogLevel.Warning) : ILogger<T>
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= least;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
            _entries.Enqueue((logLevel, formatter(state, exception)));
    }
}
