using System.Text;
using System.Text.Json.Nodes;
using Platform.Contracts.Json;
using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests;

/// <summary>
/// Request bodies generated from the CVI schemas and then broken in every way the generator knows (wrong types, nulls,
/// unknown members, oversized values, deep nesting, bad JSON, bad UTF-8). Any 5xx fails; so does a 2xx for a body that
/// the schema itself rejects.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class FuzzTests(ApiFixture fx)
{
    private const int Cases = 120;

    [Theory]
    [InlineData("/v2/personas", "persona")]
    [InlineData("/v2/conversations", "conversation")]
    [InlineData("/v2/replicas", "replica")]
    public async Task Generated_bodies_never_get_a_5xx(string path, string kind)
    {
        using var t = await fx.NewTenantAsync();
        var persona = await t.PersonaAsync();
        var replica = await t.StockReplicaAsync();
        var shape = kind switch { "persona" => CviSchemas.Persona, "conversation" => CviSchemas.Conversation, _ => CviSchemas.Replica };
        var random = new Random(kind.Length * 7919);
        var failures = new List<string>();
        for (var i = 0; i < Cases; i++)
        {
            var doc = Generate(shape, random, 0)!;
            if (doc is JsonObject o && kind == "conversation" && random.Next(2) == 0)
            {
                o["persona_id"] = persona;
                o["replica_id"] = replica;
            }
            var mutated = random.Next(4) == 0 ? doc : Mutate(doc, random);
            var bytes = random.Next(20) == 0 ? Corrupt(mutated.ToJsonString(), random) : Encoding.UTF8.GetBytes(mutated.ToJsonString());
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new("application/json");
            var response = await t.Http.PostAsync(path, content);
            var status = (int)response.StatusCode;
            var schemaErrors = SchemaErrors(shape, bytes);
            if (status >= 500 || (status < 300 && schemaErrors != 0))
            {
                failures.Add($"{status} for {Encoding.UTF8.GetString(bytes)[..Math.Min(300, bytes.Length)]}: {await response.Content.ReadAsStringAsync()}");
            }
            if (status is 200 && kind == "conversation")
            {
                var id = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["conversation_id"]!.GetValue<string>();
                await t.Http.DeleteAsync($"/v2/conversations/{id}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Generated_patches_never_get_a_5xx()
    {
        using var t = await fx.NewTenantAsync();
        var persona = await t.PersonaAsync();
        var random = new Random(42);
        string[] ops = ["add", "remove", "replace", "move", "copy", "test", "nope"];
        string[] paths = ["/persona_name", "/layers", "/layers/llm", "/layers/llm/api_key", "/layers/llm/model", "/context", "/document_ids/-", "/document_ids/0", "", "/", "/~2", "/layers/tts/tts_engine"];
        for (var i = 0; i < Cases; i++)
        {
            var patch = new JsonArray();
            for (var n = random.Next(0, 4); n >= 0; n--)
            {
                var op = new JsonObject { ["op"] = ops[random.Next(ops.Length)], ["path"] = paths[random.Next(paths.Length)] };
                if (random.Next(2) == 0)
                {
                    op["from"] = paths[random.Next(paths.Length)];
                }
                if (random.Next(3) > 0)
                {
                    op["value"] = RandomValue(random, 0);
                }
                patch.Add(op);
            }
            var response = await t.Http.PatchAsync($"/v2/personas/{persona}", Body(patch.ToJsonString()));
            Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} for {patch.ToJsonString()}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task Oversized_and_malformed_bodies_get_4xx()
    {
        using var t = await fx.NewTenantAsync();
        var huge = "{\"persona_name\":\"" + new string('a', 2 * 1024 * 1024) + "\"}";
        Assert.Equal(413, (int)(await t.Http.PostAsync("/v2/personas", Body(huge))).StatusCode);
        var deep = new string('[', 5000) + new string(']', 5000);
        Assert.Equal(400, (int)(await t.Http.PostAsync("/v2/personas", Body(deep))).StatusCode);
        Assert.Equal(400, (int)(await t.Http.PostAsync("/v2/personas", Body("{\"a\":"))).StatusCode);
        Assert.Equal(400, (int)(await t.Http.PostAsync("/v2/personas", Body(""))).StatusCode);
        Assert.Equal(415, (int)(await t.Http.PostAsync("/v2/personas", new StringContent("x=1", Encoding.UTF8, "application/x-www-form-urlencoded"))).StatusCode);
    }

    /// <summary>How many schema errors the body has, or -1 when it is not even valid UTF-8 JSON.</summary>
    private static int SchemaErrors(Shape shape, byte[] bytes)
    {
        try
        {
            return ShapeValidation.Validate(shape, JsonNode.Parse(bytes)).Count;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            return -1;
        }
    }

    private static JsonNode? Generate(Shape shape, Random r, int depth) => shape switch
    {
        StringShape s when s.OneOf is { } values => values[r.Next(values.Count)],
        StringShape s when s.Rule is not null => r.Next(2) == 0 ? "https://example.com/x" : "example",
        StringShape => RandomString(r, 20),
        BoolShape => r.Next(2) == 0,
        IntShape i => r.Next(3) == 0 ? i.Min : (long)(i.Min + (r.NextDouble() * (i.Max - i.Min))),
        NumberShape n => n.Min,
        ArrayShape a => new JsonArray([.. Enumerable.Range(0, r.Next(3)).Select(_ => Generate(a.Item, r, depth + 1))]),
        ObjectShape { Open: true, Members.Count: 0 } => new JsonObject { ["k"] = RandomValue(r, depth + 1) },
        ObjectShape o => new JsonObject(o.Members.Where(m => m.Value.Required || r.Next(3) > 0)
            .Select(m => KeyValuePair.Create(m.Key, Generate(m.Value.Shape, r, depth + 1)))),
        _ => null,
    };

    private static JsonNode Mutate(JsonNode doc, Random r)
    {
        var copy = doc.DeepClone();
        var targets = new List<JsonObject>();
        void Walk(JsonNode? n)
        {
            if (n is JsonObject o)
            {
                targets.Add(o);
                foreach (var (_, v) in o.ToList())
                {
                    Walk(v);
                }
            }
            else if (n is JsonArray a)
            {
                foreach (var v in a)
                {
                    Walk(v);
                }
            }
        }
        Walk(copy);
        var target = targets[r.Next(targets.Count)];
        var key = target.Count > 0 && r.Next(3) > 0 ? target.ElementAt(r.Next(target.Count)).Key : "unknown_" + r.Next(100);
        target[key] = r.Next(6) switch
        {
            0 => null,
            1 => new string('x', r.Next(2) == 0 ? 300 : 200_000),
            2 => Nest(r.Next(1, 60)),
            3 => -1e300,
            _ => RandomValue(r, 0),
        };
        return copy;
    }

    private static JsonNode Nest(int depth)
    {
        JsonNode node = 1;
        for (var i = 0; i < depth; i++)
        {
            node = new JsonObject { ["n"] = node };
        }
        return node;
    }

    private static JsonNode? RandomValue(Random r, int depth) => (depth > 2 ? r.Next(4) : r.Next(6)) switch
    {
        0 => RandomString(r, 10),
        1 => r.Next(-5, 100_000),
        2 => r.Next(2) == 0,
        3 => null,
        4 => new JsonArray(RandomValue(r, depth + 1), RandomValue(r, depth + 1)),
        _ => new JsonObject { ["a"] = RandomValue(r, depth + 1) },
    };

    private static string RandomString(Random r, int max)
    {
        const string alphabet = "abcXYZ019 _-/.:\"\\\u00e9\u4e2d\ud83d\ude00<>'";
        var sb = new StringBuilder();
        for (var i = r.Next(max); i > 0; i--)
        {
            sb.Append(alphabet[r.Next(alphabet.Length)]);
        }
        return sb.ToString();
    }

    private static byte[] Corrupt(string json, Random r)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        for (var i = 0; i < 3 && bytes.Length > 0; i++)
        {
            bytes[r.Next(bytes.Length)] = (byte)r.Next(256);
        }
        return bytes;
    }
}
