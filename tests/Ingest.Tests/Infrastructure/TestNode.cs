using Ingest.Gateway;
using Ingest.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ingest.Tests.Infrastructure;

/// <summary>
/// A whole node in the test process: real Kestrel on a loopback port, the real silo and a
/// real DuckDB file in a directory of its own.
/// </summary>
internal sealed class TestNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDirectory? _ownedDirectory;
    private bool _stopped;

    private TestNode(WebApplication app, Uri address, string databasePath, TempDirectory? ownedDirectory)
    {
        _app = app;
        _ownedDirectory = ownedDirectory;
        Address = address;
        DatabasePath = databasePath;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public Uri Address { get; }

    public Uri WebSocketAddress => new($"ws://{Address.Authority}/");

    public string DatabasePath { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="databasePath">An existing file to reopen; by default a fresh one that is deleted afterwards.</param>
    /// <param name="services">Last word on the node's services, e.g. a sink that fails on cue.</param>
    public static async Task<TestNode> StartAsync(
        IDictionary<string, string?>? settings = null,
        string? databasePath = null,
        Action<IServiceCollection>? services = null)
    {
        var owned = databasePath is null ? new TempDirectory() : null;
        databasePath ??= owned!.File("ingest.duckdb");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["DuckDb:Path"] = databasePath });
        if (settings is not null)
            builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddSilo();
        builder.AddGateway();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapGateway();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new TestNode(app, new Uri(address), databasePath, owned);
    }

    /// <summary>A graceful stop, as on SIGTERM: streams are flushed and acknowledged, the file closed.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
            return;
        _stopped = true;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await StopAsync();
        _ownedDirectory?.Dispose();
    }
}
