using System.Text.Json;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Storage.Analytics;

[Collection(PostgresCollection.Name)]
public sealed class CatalogPublisherTests(PostgresFixture postgres)
{
    [Fact]
    public async Task An_independent_reader_of_the_catalog_finds_every_event_and_stream()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres);
        await kit.AddSegmentAsync("a", 1, 100);
        await kit.AddSegmentAsync("b", 1, 50);
        await kit.AddSegmentAsync("a", 101, 25);
        await kit.SetStreamAsync("a", 125, """{"user-agent":"it's","x-tag":["1","2"]}""");
        await kit.SetStreamAsync("b", 50, closed: true);

        Assert.True(await kit.Publisher().RunOnceAsync(await kit.ConnectAsync(), CancellationToken.None));

        var events = await IndependentReader.QueryAsync(kit.CatalogPath,
            "select stream_id, count(*) as n, count(distinct seq) as distinct_seq, max((payload->>'n')::int) as last, any_value(typeof(payload)) as type from events group by all order by 1");
        Assert.Equal(["a:125:125:125:JSON", "b:50:50:50:JSON"], events.Select(r => $"{Text(r, "stream_id")}:{Text(r, "n")}:{Text(r, "distinct_seq")}:{Text(r, "last")}:{Text(r, "type")}"));
        var streams = await IndependentReader.QueryAsync(kit.CatalogPath,
            "select id, events, bytes, rejected, duplicates, sinks, headers->>'user-agent' as agent, headers->'x-tag'->>1 as tag, opened_at::varchar as opened, closed_at is null as open from streams order by id");
        Assert.Equal(2, streams.Length);
        Assert.Equal(("a", "125", "12500", "1", "2", "duckdb"), (Text(streams[0], "id"), Text(streams[0], "events"), Text(streams[0], "bytes"), Text(streams[0], "rejected"), Text(streams[0], "duplicates"), Text(streams[0], "sinks")));
        Assert.Equal("it's", Text(streams[0], "agent"));
        Assert.Equal("2", Text(streams[0], "tag"));
        Assert.Equal("2026-11-21 10:00:00.123456+00", Text(streams[0], "opened"));
        Assert.True(streams[0].GetProperty("open").GetBoolean());
        Assert.False(streams[1].GetProperty("open").GetBoolean());
    }

    [Fact]
    public async Task With_no_segments_and_no_streams_the_views_exist_and_are_empty()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres);

        Assert.True(await kit.Publisher().RunOnceAsync(await kit.ConnectAsync(), CancellationToken.None));

        var counts = await IndependentReader.QueryAsync(kit.CatalogPath,
            "select (select count(*) from events) as events, (select count(*) from streams) as streams");
        Assert.Equal("0", Text(counts[0], "events"));
        Assert.Equal("0", Text(counts[0], "streams"));
        var columns = await IndependentReader.QueryAsync(kit.CatalogPath, "select column_name from (describe events)");
        Assert.Equal(["stream_id", "seq", "received_at", "payload"], columns.Select(r => Text(r, "column_name")));
        var views = await IndependentReader.QueryAsync(kit.CatalogPath, "select table_name, table_type from information_schema.tables order by 1");
        Assert.Equal(["events VIEW", "streams VIEW"], views.Select(r => $"{Text(r, "table_name")} {Text(r, "table_type")}"));
    }

    [Fact]
    public async Task Publishes_only_when_segments_or_streams_changed()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres);
        var publisher = kit.Publisher();
        var connection = await kit.ConnectAsync();
        await kit.AddSegmentAsync("a", 1, 10);
        await kit.SetStreamAsync("a", 10);

        Assert.True(await publisher.RunOnceAsync(connection, CancellationToken.None));
        var first = await kit.Catalog().ReadAsync(CancellationToken.None);
        Assert.False(await publisher.RunOnceAsync(connection, CancellationToken.None));

        // A new segment: the same streams snapshot, a new catalog.
        await kit.AddSegmentAsync("b", 1, 10);
        Assert.True(await publisher.RunOnceAsync(connection, CancellationToken.None));
        var second = await kit.Catalog().ReadAsync(CancellationToken.None);
        Assert.Equal(first.Generation, second.Generation);
        Assert.Equal(first.StreamsPath, second.StreamsPath);
        Assert.Equal("20", await CountAsync(kit, "events"));

        // A stream's counts moved: a new streams snapshot.
        await kit.SetStreamAsync("a", 11);
        Assert.True(await publisher.RunOnceAsync(connection, CancellationToken.None));
        var third = await kit.Catalog().ReadAsync(CancellationToken.None);
        Assert.Equal(second.Generation + 1, third.Generation);
        Assert.Equal($"catalog/streams-{third.Generation}.parquet", third.StreamsPath);
        Assert.True(File.Exists(Path.Combine(kit.SharedDirectory, third.StreamsPath!)));
        Assert.Equal("11", Text((await IndependentReader.QueryAsync(kit.CatalogPath, "select events from streams"))[0], "events"));
        Assert.False(await publisher.RunOnceAsync(connection, CancellationToken.None));

        // A new publisher (another node took over) publishes on its first round.
        Assert.True(await kit.Publisher().RunOnceAsync(connection, CancellationToken.None));
    }

    [Fact]
    public async Task Publishing_again_replaces_the_file_and_a_reader_of_the_old_one_keeps_its_snapshot()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres);
        var publisher = kit.Publisher();
        var connection = await kit.ConnectAsync();
        await kit.AddSegmentAsync("a", 1, 10);
        await publisher.RunOnceAsync(connection, CancellationToken.None);
        using var copy = new TempDirectory();
        var old = copy.File("old.duckdb");

        await using (var held = new FileStream(kit.CatalogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            await kit.AddSegmentAsync("a", 11, 5);
            Assert.True(await publisher.RunOnceAsync(connection, CancellationToken.None));

            // What the held handle reads now is what a reader that had opened the old file sees.
            await using var target = File.Create(old);
            await held.CopyToAsync(target);
        }

        Assert.Equal("10", await CountAsync(old, "events"));
        Assert.Equal("15", await CountAsync(kit.CatalogPath, "events"));
        Assert.DoesNotContain(kit.CatalogDirectoryFiles(), f => f.Contains(".tmp", StringComparison.Ordinal));
        Assert.False(File.Exists(kit.CatalogPath + ".wal"));
    }

    private static Task<string> CountAsync(AnalyticsTestKit kit, string view) => CountAsync(kit.CatalogPath, view);

    private static async Task<string> CountAsync(string catalog, string view) =>
        Text((await IndependentReader.QueryAsync(catalog, $"select count(*) as n from {view}"))[0], "n");

    private static string Text(JsonElement row, string column)
    {
        var value = row.GetProperty(column);
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
    }
}
