using System.Text.Json.Nodes;
using Platform.Contracts.Json;

namespace Platform.Contracts.Tests;

public sealed class JsonPatchTests
{
    private static JsonNode Doc() => JsonNode.Parse("""{"a":{"b":1,"c":[1,2,3]},"s":"x","t~/":7}""")!;

    private static string Apply(string patch, Func<string, bool>? writeOnly = null)
    {
        var outcome = JsonPatch.Apply(Doc(), JsonNode.Parse(patch), writeOnly);
        return outcome.Error is { } e ? "error: " + e.Message : outcome.Document!.ToJsonString();
    }

    [Theory]
    [InlineData("""[{"op":"add","path":"/a/d","value":true}]""", """{"a":{"b":1,"c":[1,2,3],"d":true},"s":"x","t~/":7}""")]
    [InlineData("""[{"op":"add","path":"/a/c/1","value":9}]""", """{"a":{"b":1,"c":[1,9,2,3]},"s":"x","t~/":7}""")]
    [InlineData("""[{"op":"add","path":"/a/c/-","value":4}]""", """{"a":{"b":1,"c":[1,2,3,4]},"s":"x","t~/":7}""")]
    [InlineData("""[{"op":"remove","path":"/a/c/0"}]""", """{"a":{"b":1,"c":[2,3]},"s":"x","t~/":7}""")]
    [InlineData("""[{"op":"replace","path":"/s","value":{"n":null}}]""", """{"a":{"b":1,"c":[1,2,3]},"s":{"n":null},"t~/":7}""")]
    [InlineData("""[{"op":"move","from":"/a/b","path":"/z"}]""", """{"a":{"c":[1,2,3]},"s":"x","t~/":7,"z":1}""")]
    [InlineData("""[{"op":"copy","from":"/a/c","path":"/a/d"}]""", """{"a":{"b":1,"c":[1,2,3],"d":[1,2,3]},"s":"x","t~/":7}""")]
    [InlineData("""[{"op":"test","path":"/a/c","value":[1,2,3]},{"op":"remove","path":"/t~0~1"}]""", """{"a":{"b":1,"c":[1,2,3]},"s":"x"}""")]
    [InlineData("""[{"op":"test","path":"/a/b","value":1.0}]""", """{"a":{"b":1,"c":[1,2,3]},"s":"x","t~/":7}""")]
    public void Applies_each_operation(string patch, string expected) => Assert.Equal(expected, Apply(patch));

    [Theory]
    [InlineData("""{"op":"add"}""", "array of operations")]
    [InlineData("""[{"op":"frobnicate","path":"/a"}]""", "'op' must be one of")]
    [InlineData("""[{"op":"add","path":"a","value":1}]""", "JSON Pointer")]
    [InlineData("""[{"op":"add","path":"/x/y","value":1}]""", "'/x' does not exist")]
    [InlineData("""[{"op":"replace","path":"/nope","value":1}]""", "no member 'nope' to replace")]
    [InlineData("""[{"op":"remove","path":"/a/c/3"}]""", "not an index")]
    [InlineData("""[{"op":"add","path":"/a/c/01","value":1}]""", "not a valid index")]
    [InlineData("""[{"op":"test","path":"/s","value":"y"}]""", "the test failed")]
    [InlineData("""[{"op":"add","path":"/a"}]""", "needs a 'value'")]
    [InlineData("""[{"op":"move","from":"/a","path":"/a/b/c"}]""", "cannot be inside")]
    [InlineData("""[{"op":"add","path":"/a","value":1,"extra":2}]""", "unknown member 'extra'")]
    public void Refuses_bad_patches_naming_the_problem(string patch, string expected) =>
        Assert.Contains(expected, Apply(patch));

    [Fact]
    public void A_failing_operation_leaves_the_document_untouched()
    {
        var doc = Doc();
        var before = doc.ToJsonString();
        var outcome = JsonPatch.Apply(doc, JsonNode.Parse("""[{"op":"remove","path":"/s"},{"op":"test","path":"/a/b","value":2}]"""));
        Assert.NotNull(outcome.Error);
        Assert.Equal("[1]", outcome.Error!.Field);
        Assert.Equal(before, doc.ToJsonString());
    }

    [Theory]
    [InlineData("""[{"op":"test","path":"/a/b","value":1}]""")]
    [InlineData("""[{"op":"copy","from":"/a/b","path":"/q"}]""")]
    [InlineData("""[{"op":"move","from":"/a","path":"/q"}]""")]
    public void Write_only_members_cannot_be_read(string patch)
    {
        static bool writeOnly(string pointer) => pointer is "/a/b" or "/a";
        Assert.Contains("write-only", Apply(patch, writeOnly));
    }

    [Fact]
    public void Write_only_members_can_be_written_and_removed()
    {
        static bool writeOnly(string pointer) => pointer == "/a/b";
        Assert.DoesNotContain("error", Apply("""[{"op":"replace","path":"/a/b","value":5},{"op":"remove","path":"/a/b"}]""", writeOnly));
    }
}
