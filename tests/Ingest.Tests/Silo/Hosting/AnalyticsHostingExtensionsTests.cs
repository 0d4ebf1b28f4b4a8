using Ingest.Silo.Hosting;
using Ingest.Silo.Storage.Analytics;
using Ingest.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Ingest.Tests.Silo.Hosting;

public sealed class AnalyticsHostingExtensionsTests
{
    [Fact]
    public void Binds_the_analytics_section()
    {
        using var shared = new TempDirectory();
        using var host = Build(new() { ["Analytics:SharedDirectory"] = shared.Path, ["Analytics:CompactionThreshold"] = "8", ["Analytics:NodeName"] = "node-7" });

        var options = host.Services.GetRequiredService<AnalyticsOptions>();

        Assert.Equal(shared.Path, options.SharedDirectory);
        Assert.Equal(8, options.CompactionThreshold);
        Assert.Equal("node-7", options.NodeName);
        Assert.Contains(host.Services.GetServices<IHostedService>(), s => s is AnalyticsMaintenanceService);
    }

    [Fact]
    public void Maintenance_without_a_shared_directory_is_refused_with_the_setting_named()
    {
        using var host = Build(new() { ["Analytics:PublishInterval"] = "00:00:30" });

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<AnalyticsOptions>>().Value);

        Assert.Contains(error.Failures, f => f.StartsWith("Analytics:SharedDirectory must", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("Analytics:PublishInterval must", StringComparison.Ordinal));
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        // The catalog's database comes from the PostgreSQL storage; resolving it is not this test's business.
        builder.Services.AddSingleton(_ => (Ingest.Silo.Storage.Postgres.PostgresDatabase)null!);
        builder.AddAnalyticsMaintenance();
        return builder.Build();
    }
}
