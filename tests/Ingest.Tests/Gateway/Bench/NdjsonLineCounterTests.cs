using System.Text;
using Ingest.Gateway.Bench;

namespace Ingest.Tests.Gateway.Bench;

public sealed class NdjsonLineCounterTests
{
    [Theory]
    [InlineData("", 0)]
    [InlineData("\n\n \r\n\t\n", 0)]
    [InlineData("{\"n\":1}\n", 1)]
    [InlineData("{\"n\":1}", 1)]
    [InlineData("{\"n\":1}\r\n\r\n  {\"n\":2}\n\n{\"n\":3}", 3)]
    [InlineData("  {\"n\":1}  \n   \n[1,2]\n\"text\"\n", 3)]
    public void Counts_the_non_blank_lines_a_body_of_ndjson_holds(string body, long lines)
    {
        var counter = new NdjsonLineCounter();

        counter.Add(Encoding.UTF8.GetBytes(body));

        Assert.Equal(lines, counter.Count);
    }

    [Fact]
    public void The_count_does_not_depend_on_where_reads_split_the_body()
    {
        var body = Encoding.UTF8.GetBytes("{\"n\":1}\n\n  {\"n\":2}\r\n\t\n{\"n\":3}\n{\"n\":4}");
        for (var size = 1; size <= body.Length; size++)
        {
            var counter = new NdjsonLineCounter();
            for (var at = 0; at < body.Length; at += size)
                counter.Add(body.AsSpan(at, Math.Min(size, body.Length - at)));
            Assert.Equal(4, counter.Count);
        }
    }
}
