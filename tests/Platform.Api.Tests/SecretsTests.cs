using System.Diagnostics;
using Npgsql;
using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests;

[Collection(ApiCollection.Name)]
public sealed class SecretsTests(ApiFixture fx)
{
    [Fact]
    public async Task A_database_dump_holds_no_plaintext_llm_key_and_no_api_key()
    {
        using var t = await fx.NewTenantAsync();
        const string llmKey = "sk-PLAINTEXT-LLM-KEY-0123456789";
        const string ttsKey = "tts-PLAINTEXT-KEY-9876543210";
        var persona = await Json(await t.Http.PostAsync("/v2/personas", Body($$$"""
            {"system_prompt":"x","layers":{"llm":{"model":"m","base_url":"https://llm.example/v1","api_key":"{{{llmKey}}}"},
             "tts":{"tts_engine":"openai_compatible","base_url":"https://tts.example/v1","model":"tts-1","api_key":"{{{ttsKey}}}"} } }
            """)));
        // A patch that rotates the key must not leave the old or the new one readable either.
        const string rotated = "sk-ROTATED-PLAINTEXT-KEY-555";
        await Json(await t.Http.PatchAsync($"/v2/personas/{persona["persona_id"]}", Body($$"""[{"op":"replace","path":"/layers/llm/api_key","value":"{{rotated}}"}]""")));

        var dump = await DumpAsync(fx);
        Assert.Contains(persona["persona_id"]!.GetValue<string>(), dump); // the dump does hold the persona
        Assert.DoesNotContain(llmKey, dump);
        Assert.DoesNotContain(ttsKey, dump);
        Assert.DoesNotContain(rotated, dump);
        Assert.DoesNotContain(t.ApiKey, dump);
        Assert.DoesNotContain(t.ApiKey[3..], dump); // not even without its prefix
        Assert.Contains(Platform.Contracts.ApiKeys.Hash(t.ApiKey), dump); // the key's hash is what is stored
    }

    /// <summary>The database as pg_dump writes it, with grain state (bytea) decoded.</summary>
    internal static async Task<string> DumpAsync(ApiFixture fx)
    {
        var cs = new NpgsqlConnectionStringBuilder(fx.Cluster.Options.Postgres);
        var start = new ProcessStartInfo("/usr/lib/postgresql/15/bin/pg_dump",
            ["-h", cs.Host!, "-p", cs.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", cs.Username!, "--no-owner", "-d", cs.Database!])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, "pg_dump failed: " + await error);
        // Grain state is stored as bytea: decode it so that a key inside the JSON payload would be seen.
        var text = await output;
        return text + DecodeHexBlobs(text);
    }

    private static string DecodeHexBlobs(string dump)
    {
        var sb = new System.Text.StringBuilder();
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(dump, @"\\x([0-9a-f]{16,})"))
        {
            sb.Append(System.Text.Encoding.UTF8.GetString(Convert.FromHexString(m.Groups[1].Value))).Append('\n');
        }
        return sb.ToString();
    }
}
