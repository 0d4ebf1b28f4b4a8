using Ingest.Cli.Bench;

namespace Ingest.Tests.Cli.Bench;

/// <summary>The bench's probe of the machine measures on the real cores and disk, and leaves nothing behind.</summary>
public sealed class MachineProbeTests
{
    [Fact]
    public void It_measures_the_work_the_memory_the_clock_and_fsync_and_deletes_its_file()
    {
        var directory = Directory.CreateTempSubdirectory("machine-probe-test-");
        try
        {
            var probe = MachineProbe.Run(directory.FullName);

            Assert.InRange(probe.WorkSeconds, 0.001, 60);
            Assert.InRange(probe.LostPercent, 0, 100);
            Assert.True(probe.CopyGibPerSecond > 0, probe.ToString());
            Assert.True(probe.FsyncP50Ms > 0, $"an fsync took no time: {probe}");
            Assert.True(probe.FsyncP50Ms <= probe.FsyncP99Ms, probe.ToString());
            Assert.Empty(directory.EnumerateFileSystemInfos());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
