using System.Net.Http.Json;
using System.Text.Json;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Gateway.Bench;

public sealed class NodeEndpointTests
{
    [Fact]
    public async Task Node_answers_this_process_s_CPU_and_memory_and_the_sink_s_counts()
    {
        await using var node = await TestNode.StartAsync();
        using (var post = await node.Http.PostAsync("/", new ByteArrayContent(Ndjson.Body(Ndjson.Events(100)))))
            Assert.Equal("100", await post.Content.ReadAsStringAsync());

        var stats = await node.Http.GetFromJsonAsync<JsonElement>("/v1/node");

        Assert.Equal(Environment.ProcessId, stats.GetProperty("pid").GetInt32());
        Assert.True(stats.GetProperty("cpuSeconds").GetDouble() > 0);
        var rss = stats.GetProperty("rssBytes").GetInt64();
        Assert.True(rss > 10 << 20, $"rss {rss}");
        Assert.True(stats.GetProperty("peakRssBytes").GetInt64() >= rss);
        Assert.True(stats.GetProperty("gcHeapBytes").GetInt64() > 0);
        Assert.True(stats.GetProperty("gcPauseSeconds").GetDouble() >= 0);
        Assert.Equal(3, stats.GetProperty("gcCollections").GetArrayLength());
        Assert.True(stats.GetProperty("threads").GetInt32() > 0);
        Assert.Equal(100, stats.GetProperty("sink").GetProperty("eventsWritten").GetInt64());
        Assert.True(stats.GetProperty("sink").GetProperty("commits").GetInt64() >= 1);
        // The build compiles the library that sets DuckDB's level; the default is 1.
        Assert.Equal(1, stats.GetProperty("sink").GetProperty("zstdLevel").GetInt32());
        Assert.Equal(-7, stats.GetProperty("sink").GetProperty("catchUpZstdLevel").GetInt32());
        Assert.Equal(0, stats.GetProperty("sink").GetProperty("catchUpCheckpoints").GetInt64());
    }
}
