using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Ingest.Cli.Cluster;

/// <summary>A child process whose stdout and stderr are appended to a log file, and the signals it is stopped with.</summary>
/// <remarks>
/// A shell opens the log and then execs the program, so the PID is the program's own and it writes
/// to the file itself: nothing is pumped through this process, and nothing is lost if it dies.
/// <c>setsid</c> puts the child in a session of its own, so a Ctrl+C in the terminal reaches only
/// the parent, which stops its children itself and in order.
/// </remarks>
internal sealed partial class LoggedProcess : IDisposable
{
    private const int SigQuit = 3;
    private const int SigTerm = 15;

    private readonly Process _process;

    private LoggedProcess(Process process, string logFile)
    {
        _process = process;
        LogFile = logFile;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string LogFile { get; }

    /// <param name="environment">Variables set for the program beside those it inherits.</param>
    public static LoggedProcess Start(
        string program, IEnumerable<string> arguments, string workingDirectory, string logFile,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("setsid") { WorkingDirectory = workingDirectory };
        foreach (var (name, value) in environment ?? ReadOnlyDictionary<string, string>.Empty)
            start.Environment[name] = value;
        // "$0" is the log file, "$@" the program and its arguments: nothing is quoted into the script.
        foreach (var argument in (IEnumerable<string>)["sh", "-c", "exec \"$@\" </dev/null >>\"$0\" 2>&1", logFile, program, .. arguments])
            start.ArgumentList.Add(argument);
        return new LoggedProcess(Process.Start(start)!, logFile);
    }

    /// <summary>SIGTERM: a node flushes, acknowledges and closes; nginx stops at once.</summary>
    public void Terminate() => Signal(SigTerm);

    /// <summary>SIGQUIT: nginx's graceful shutdown.</summary>
    public void Quit() => Signal(SigQuit);

    /// <summary>SIGKILL: no chance to flush or say goodbye.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill();
    }

    /// <summary>Waits up to <paramref name="timeout"/>; false if it is still running then.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>The last lines of the log, to say why it failed; stack frames left out, so the message shows.</summary>
    public string Tail(int lines = 20)
    {
        try
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Max(0, stream.Length - 65536), SeekOrigin.Begin);
            var all = new StreamReader(stream).ReadToEnd()
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(line => !line.TrimStart().StartsWith("at ", StringComparison.Ordinal) && !line.Contains("--- End of", StringComparison.Ordinal));
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    public void Dispose() => _process.Dispose();

    private void Signal(int signal)
    {
        // Once reaped, the PID may belong to another process.
        if (!_process.HasExited && SendSignal(_process.Id, signal) != 0 && !_process.HasExited)
            throw new InvalidOperationException($"Could not signal process {_process.Id}: errno {Marshal.GetLastPInvokeError()}.");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
