using Ingest.Silo.Storage.Analytics;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Storage.Analytics;

public sealed class AnalyticsOptionsTests
{
    [Fact]
    public void Defaults_are_usable_and_not_clustered()
    {
        var options = new AnalyticsOptions();

        Assert.Empty(options.Validate());
        Assert.False(options.Clustered);
        Assert.Equal(TimeSpan.FromSeconds(2), options.PublishInterval);
        Assert.Equal(16, options.CompactionThreshold);
        Assert.Equal(64, options.CompactionMaxInputs);
        Assert.Equal(TimeSpan.FromMinutes(1), options.RetiredGrace);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.SegmentInterval);
        Assert.Equal(Environment.MachineName, options.NodeName);
    }

    [Fact]
    public void A_shared_directory_that_does_not_exist_is_refused()
    {
        using var directory = new TempDirectory();
        Assert.Empty(new AnalyticsOptions { SharedDirectory = directory.Path }.Validate());

        var error = Assert.Single(new AnalyticsOptions { SharedDirectory = directory.File("not-mounted") }.Validate());
        Assert.Contains("Analytics:SharedDirectory", error, StringComparison.Ordinal);
        Assert.Contains("not-mounted", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(AnalyticsOptions.PublishInterval))]
    [InlineData(nameof(AnalyticsOptions.SegmentInterval))]
    [InlineData(nameof(AnalyticsOptions.CompactionThreshold))]
    [InlineData(nameof(AnalyticsOptions.CompactionMaxInputs))]
    [InlineData(nameof(AnalyticsOptions.RetiredGrace))]
    [InlineData(nameof(AnalyticsOptions.NodeName))]
    public void Each_unusable_value_is_named(string setting)
    {
        var options = new AnalyticsOptions();
        switch (setting)
        {
            case nameof(AnalyticsOptions.PublishInterval):
                // Data must be visible within 10 s of being acknowledged.
                options.PublishInterval = TimeSpan.FromSeconds(10);
                options.RetiredGrace = TimeSpan.FromMinutes(5);
                break;
            case nameof(AnalyticsOptions.SegmentInterval):
                options.SegmentInterval = TimeSpan.Zero;
                break;
            case nameof(AnalyticsOptions.CompactionThreshold):
                options.CompactionThreshold = 1;
                break;
            case nameof(AnalyticsOptions.CompactionMaxInputs):
                options.CompactionMaxInputs = 1;
                break;
            case nameof(AnalyticsOptions.RetiredGrace):
                options.RetiredGrace = TimeSpan.FromSeconds(3);
                break;
            case nameof(AnalyticsOptions.NodeName):
                options.NodeName = " ";
                break;
        }

        var error = Assert.Single(options.Validate());
        Assert.StartsWith($"Analytics:{setting} ", error, StringComparison.Ordinal);
    }
}
