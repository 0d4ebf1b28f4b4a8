using System.Text;
using System.Text.Json;
using Ingest.Gateway.Framing;

namespace Ingest.Tests.Gateway.Framing;

public sealed class JsonScannerTests
{
    [Theory]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("{\"a\":1}")]
    [InlineData("{ \"a\" : [ 1 , -2.5e+3 , 0 , -0.0 , 1E9 ] , \"b\" : { } }")]
    [InlineData("{\"ts\":\"2026-11-22T09:15:36.806Z\",\"http\":{\"status\":200,\"ms\":226.51},\"ok\":true,\"x\":null,\"n\":false}")]
    [InlineData("\"tab\\tquote\\\"slash\\/back\\\\\"")]
    [InlineData("[[[[[]]]]]")]
    [InlineData("\"héllo\"")]
    public void A_well_formed_value_is_measured_as_the_reader_measures_it(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        Assert.Equal(ReaderLength(bytes), JsonScanner.MeasureValue(bytes, isFinalBlock: true));
        Assert.Equal(bytes.Length, JsonScanner.MeasureValue(bytes, isFinalBlock: true));
    }

    [Theory]
    [InlineData("{\"a\":1,}")]
    [InlineData("[1,]")]
    [InlineData("{\"a\" 1}")]
    [InlineData("{a:1}")]
    [InlineData("[01]")]
    [InlineData("[1.]")]
    [InlineData("[.5]")]
    [InlineData("[-]")]
    [InlineData("[1e]")]
    [InlineData("[+1]")]
    [InlineData("[tru]")]
    [InlineData("[truex]")]
    [InlineData("[nul]")]
    [InlineData("{\"a\":1")]
    [InlineData("\"unterminated")]
    [InlineData("\"bad \\x escape\"")]
    [InlineData("\"control \u0001 character\"")]
    [InlineData("[1 2]")]
    [InlineData("{\"a\":1}/* comment */")]
    [InlineData("/* comment */ 1")]
    [InlineData("{\"a\":1]")]
    [InlineData("[1}")]
    public void Malformed_input_is_left_to_the_reader(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        var scanned = JsonScanner.MeasureValue(bytes, isFinalBlock: true);

        // A value the scanner vouches for must be one the reader takes, up to the same byte.
        if (scanned >= 0)
            Assert.Equal(ReaderLength(bytes), scanned);
        if (json is not ("{\"a\":1}/* comment */"))
            Assert.Equal(-1, scanned);
    }

    [Theory]
    [InlineData("\"\\u00e9\"")]
    [InlineData("42")]
    [InlineData("true")]
    public void What_it_cannot_be_sure_of_goes_to_the_reader(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        // A \u escape, and a top-level number or literal that may go on in the next read.
        Assert.Equal(-1, JsonScanner.MeasureValue(bytes, isFinalBlock: json.StartsWith('"')));
    }

    [Fact]
    public void A_top_level_number_is_measured_up_to_the_whitespace_after_it()
    {
        Assert.Equal(2, JsonScanner.MeasureValue("42\n{}"u8, isFinalBlock: false));
        Assert.Equal(4, JsonScanner.MeasureValue("true 1"u8, isFinalBlock: false));
        Assert.Equal(2, JsonScanner.MeasureValue("42"u8, isFinalBlock: true));
    }

    [Fact]
    public void Nesting_deeper_than_its_limit_goes_to_the_reader()
    {
        var deep = new string('[', JsonScanner.MaxDepth + 1) + new string(']', JsonScanner.MaxDepth + 1);
        var limit = new string('[', JsonScanner.MaxDepth) + new string(']', JsonScanner.MaxDepth);

        Assert.Equal(-1, JsonScanner.MeasureValue(Encoding.UTF8.GetBytes(deep), isFinalBlock: true));
        Assert.Equal(limit.Length, JsonScanner.MeasureValue(Encoding.UTF8.GetBytes(limit), isFinalBlock: true));
    }

    [Fact]
    public void On_random_values_and_their_mutations_it_never_vouches_for_what_the_reader_rejects()
    {
        var random = new Random(20261122);
        var vouched = 0;
        var mutants = 0;
        for (var n = 0; n < 20_000; n++)
        {
            var json = Encoding.UTF8.GetBytes(RandomValue(random, depth: 0));

            // Every generated value is well formed and has no \u escape, so the scanner must take it whole.
            Assert.Equal(json.Length, JsonScanner.MeasureValue(json, isFinalBlock: true));
            Assert.Equal(json.Length, ReaderLength(json));

            var mutant = Mutate(random, json);
            var scanned = JsonScanner.MeasureValue(mutant, isFinalBlock: true);
            if (scanned >= 0)
            {
                Assert.True(ReaderLength(mutant) == scanned, $"scanner vouched for {scanned} bytes of {Encoding.UTF8.GetString(mutant)}");
                vouched++;
            }
            mutants++;
        }
        // Some mutations keep the value well formed (a digit for a digit); most do not.
        Assert.InRange(vouched, 1, mutants - 1);
    }

    /// <summary>The reader's length for the value <paramref name="json"/> starts with, or -1 if it rejects it.</summary>
    private static int ReaderLength(byte[] json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            if (!reader.Read())
                return -1;
            reader.Skip();
            return (int)reader.BytesConsumed;
        }
        catch (JsonException)
        {
            return -1;
        }
    }

    private static string RandomValue(Random random, int depth)
    {
        var kind = random.Next(depth > 6 ? 5 : 7);
        var ws = () => random.Next(4) == 0 ? " \n\t\r"[random.Next(4)].ToString() : "";
        switch (kind)
        {
            case 0:
                return RandomString(random);
            case 1:
                return RandomNumber(random);
            case 2:
                return "true";
            case 3:
                return random.Next(2) == 0 ? "false" : "null";
            case 4:
                return RandomNumber(random);
            case 5:
                {
                    var items = Enumerable.Range(0, random.Next(4)).Select(_ => ws() + RandomValue(random, depth + 1) + ws());
                    return "[" + string.Join(",", items) + "]";
                }
            default:
                {
                    var members = Enumerable.Range(0, random.Next(4)).Select(_ => ws() + RandomString(random) + ws() + ":" + ws() + RandomValue(random, depth + 1) + ws());
                    return "{" + string.Join(",", members) + "}";
                }
        }
    }

    private static string RandomString(Random random)
    {
        const string Plain = "abcxyz019 _-:./é€";
        var builder = new StringBuilder("\"");
        for (var i = random.Next(12); i > 0; i--)
            builder.Append(random.Next(8) == 0 ? "\\\"\\\\\\/\\b\\f\\n\\r\\t".Substring(random.Next(8) * 2, 2) : Plain[random.Next(Plain.Length)].ToString());
        return builder.Append('"').ToString();
    }

    private static string RandomNumber(Random random)
    {
        var number = (random.Next(3) == 0 ? "-" : "") + (random.Next(4) == 0 ? "0" : random.Next(1, 100000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (random.Next(3) == 0)
            number += "." + random.Next(1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (random.Next(4) == 0)
            number += "eE"[random.Next(2)] + (random.Next(3) switch { 0 => "+", 1 => "-", _ => "" }) + random.Next(1, 40).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return number;
    }

    private static byte[] Mutate(Random random, byte[] json)
    {
        const string Tokens = "{}[],:\"\\0123456789.eE+-tfnu /x\n\u0001";
        var list = json.ToList();
        for (var edits = random.Next(1, 3); edits > 0; edits--)
        {
            var at = random.Next(list.Count + 1);
            var token = (byte)Tokens[random.Next(Tokens.Length)];
            switch (random.Next(4))
            {
                case 0 when at < list.Count:
                    list[at] = token;
                    break;
                case 1 when at < list.Count:
                    list.RemoveAt(at);
                    break;
                case 2:
                    list.Insert(at, token);
                    break;
                default:
                    list.RemoveRange(at, list.Count - at);
                    break;
            }
        }
        return [.. list];
    }
}
