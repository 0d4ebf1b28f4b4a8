using System.Runtime.InteropServices;

namespace Ingest.Cli;

/// <summary>
/// Ctrl+C (SIGINT) or SIGTERM as a cancellation token: the process keeps running until the verb
/// has stopped what it started, however long that takes.
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    public ShutdownSignal()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _source.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        // Off the signal thread: what the token wakes up may take a while.
        _ = _source.CancelAsync();
    }
}
