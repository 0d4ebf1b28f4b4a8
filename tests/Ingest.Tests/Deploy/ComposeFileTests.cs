using Ingest.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Ingest.Tests.Deploy;

/// <summary>
/// docker-compose.yml as docker-compose itself resolves it (anchors merged, paths made absolute):
/// the cluster a user gets from <c>docker compose up</c>. No Docker engine is needed for this.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly string[] Nodes = ["node1", "node2", "node3"];

    [Fact]
    public async Task Resolves_to_postgres_three_nodes_and_a_balancer_published_on_port_4318()
    {
        var services = Services(await ResolveAsync());

        Assert.Equal(["balancer", "node1", "node2", "node3", "postgres"], services.Children.Keys.Select(Scalar).Order());
        var port = Assert.Single(Sequence(services, "balancer", "ports"));
        var published = Assert.IsType<YamlMappingNode>(port);
        Assert.Equal("4318", Scalar(published["published"]));
        Assert.Equal("4318", Scalar(published["target"]));
    }

    [Fact]
    public async Task Every_service_has_a_healthcheck_and_restarts_unless_stopped()
    {
        var services = Services(await ResolveAsync());

        foreach (var (name, service) in services.Children)
        {
            var definition = (YamlMappingNode)service;
            Assert.True(definition.Children.ContainsKey("healthcheck"), $"{Scalar(name)} has no healthcheck");
            Assert.Equal("unless-stopped", Scalar(definition["restart"]));
        }
        Assert.Contains("pg_isready", HealthCheck(services, "postgres"));
        Assert.Contains("http://127.0.0.1:4318/nginx-health", HealthCheck(services, "balancer"));
        foreach (var node in Nodes)
            Assert.Contains("http://127.0.0.1:4318/healthz", HealthCheck(services, node));
    }

    [Fact]
    public async Task Every_node_is_built_from_the_Dockerfile_mounts_the_shared_volume_and_writes_to_both_sinks()
    {
        var config = await ResolveAsync();
        var services = Services(config);

        var volumes = (YamlMappingNode)config["volumes"];
        Assert.True(volumes.Children.ContainsKey("shared"));
        Assert.True(volumes.Children.ContainsKey("postgres"));
        Assert.Contains(Sequence(services, "postgres", "volumes"), volume => IsMount(volume, "postgres", "/var/lib/postgresql/data"));
        foreach (var node in Nodes)
        {
            var definition = (YamlMappingNode)services[node];
            Assert.Equal("deploy/Dockerfile", Scalar(((YamlMappingNode)definition["build"])["dockerfile"]));
            Assert.Contains(Sequence(services, node, "volumes"), volume => IsMount(volume, "shared", "/data/shared"));

            var environment = (YamlMappingNode)definition["environment"];
            Assert.Equal("http://0.0.0.0:4318", Scalar(environment["ASPNETCORE_URLS"]));
            Assert.Equal("duckdb,postgres", Scalar(environment["Silo__Sinks"]));
            Assert.Equal("Host=postgres;Username=ingest;Password=ingest;Database=ingest", Scalar(environment["Postgres__ConnectionString"]));
            Assert.Equal("/data/shared", Scalar(environment["Analytics__SharedDirectory"]));
            Assert.Equal("/data/node/ingest.duckdb", Scalar(environment["DuckDb__Path"]));
        }
    }

    [Fact]
    public async Task Nodes_start_once_postgres_is_healthy_and_the_balancer_once_every_node_is()
    {
        var services = Services(await ResolveAsync());

        foreach (var node in Nodes)
            Assert.Equal("service_healthy", DependencyCondition(services, node, "postgres"));
        foreach (var node in Nodes)
            Assert.Equal("service_healthy", DependencyCondition(services, "balancer", node));
    }

    private static async Task<YamlMappingNode> ResolveAsync()
    {
        var output = await ChildProcess.RunAsync(
            "docker-compose", ["-f", Path.Combine(Repository.Root, "docker-compose.yml"), "config"], Repository.Root);
        var yaml = new YamlStream();
        yaml.Load(new StringReader(output));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static YamlMappingNode Services(YamlMappingNode config) => (YamlMappingNode)config["services"];

    private static YamlSequenceNode Sequence(YamlMappingNode services, string service, string key) =>
        (YamlSequenceNode)((YamlMappingNode)services[service])[key];

    private static string HealthCheck(YamlMappingNode services, string service)
    {
        var test = ((YamlMappingNode)((YamlMappingNode)services[service])["healthcheck"])["test"];
        return test is YamlSequenceNode command ? string.Join(' ', command.Select(Scalar)) : Scalar(test);
    }

    private static string DependencyCondition(YamlMappingNode services, string service, string dependency) =>
        Scalar(((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)services[service])["depends_on"])[dependency])["condition"]);

    /// <summary>A volume in either of the forms docker-compose prints: <c>source:target:mode</c>, or a mapping.</summary>
    private static bool IsMount(YamlNode volume, string source, string target) => volume switch
    {
        YamlScalarNode text => text.Value!.Split(':') is [var from, var to, ..] && from == source && to == target,
        YamlMappingNode mapping => Scalar(mapping["source"]) == source && Scalar(mapping["target"]) == target,
        _ => false,
    };

    private static string Scalar(YamlNode node) => Assert.IsType<YamlScalarNode>(node).Value!;
}
