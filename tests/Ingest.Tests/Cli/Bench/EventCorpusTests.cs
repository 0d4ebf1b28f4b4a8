using System.Text;
using System.Text.Json;
using Ingest.Cli.Bench;

namespace Ingest.Tests.Cli.Bench;

public sealed class EventCorpusTests
{
    [Theory]
    [InlineData("wide", 200)]
    [InlineData("nested", 600)]
    [InlineData("flat", 100)]
    public void Every_event_is_one_line_of_JSON_of_about_the_size_asked_for_and_no_two_are_alike(string shape, int size)
    {
        var corpus = EventCorpus.Generate(1000, size, Enum.Parse<BenchShape>(shape, ignoreCase: true), DateTimeOffset.UtcNow);

        var lines = Encoding.UTF8.GetString(corpus.Ndjson).Split('\n');
        Assert.Equal(1001, lines.Length);
        Assert.Equal("", lines[^1]);
        Assert.Equal(1000, lines[..^1].Distinct().Count());
        for (var i = 0; i < corpus.Count; i++)
        {
            var text = Encoding.UTF8.GetString(corpus.Event(i).Span);
            Assert.Equal(lines[i], text);
            using var json = JsonDocument.Parse(text);
            Assert.InRange(text.Length, size - 20, size + 60);
        }
        Assert.Equal(corpus.Bytes, corpus.Ndjson.Length);
    }

    [Fact]
    public void Nested_events_are_nested_deeper_than_wide_ones_and_flat_ones_are_flat()
    {
        static int Depth(JsonElement element) => element.ValueKind switch
        {
            JsonValueKind.Object => 1 + element.EnumerateObject().Select(p => Depth(p.Value)).DefaultIfEmpty(0).Max(),
            JsonValueKind.Array => 1 + element.EnumerateArray().Select(Depth).DefaultIfEmpty(0).Max(),
            _ => 0,
        };
        int DepthOf(BenchShape shape)
        {
            using var json = JsonDocument.Parse(EventCorpus.Generate(1, 300, shape, DateTimeOffset.UtcNow).Event(0));
            return Depth(json.RootElement);
        }

        Assert.Equal(1, DepthOf(BenchShape.Flat));
        Assert.Equal(2, DepthOf(BenchShape.Wide));
        Assert.True(DepthOf(BenchShape.Nested) >= 4);
    }

    [Fact]
    public void Shares_and_request_bodies_cover_every_event_once_in_order()
    {
        var corpus = EventCorpus.Generate(1001, 100, BenchShape.Flat, DateTimeOffset.UtcNow);
        var body = new List<byte>();

        for (var s = 0; s < 7; s++)
        {
            var (first, count) = corpus.Share(s, 7);
            for (var done = 0; done < count; done += 50)
            {
                var (offset, length) = corpus.Lines(first + done, Math.Min(50, count - done));
                body.AddRange(corpus.Ndjson.AsSpan(offset, length));
            }
        }

        Assert.Equal(corpus.Ndjson, body);
    }
}
