using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

/// <summary>What both call benchmarks do: launch Chromium with a fake microphone, warm a conversation, report percentiles.</summary>
internal static class CallBench
{
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright, string microphoneWav) => playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = "/usr/bin/chromium",
        Headless = true,
        Args =
        [
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", $"--use-file-for-fake-audio-capture={microphoneWav}",
        ],
    });

    /// <summary>Creates a conversation and waits until its worker has joined (the replica is warm when the page opens).</summary>
    public static async Task<(string Id, string Url)> WarmConversationAsync(HttpClient http, string persona)
    {
        var created = await (await http.PostAsJsonAsync("/v2/conversations", new { persona_id = persona })).Content.ReadFromJsonAsync<JsonObject>()
            ?? throw new InvalidOperationException("no body");
        var id = created["conversation_id"]?.GetValue<string>() ?? throw new InvalidOperationException($"create failed: {created}");
        var warmBy = DateTime.UtcNow.AddSeconds(30);
        while (!await ReplicaJoinedAsync(http, id))
        {
            if (DateTime.UtcNow > warmBy)
            {
                throw new TimeoutException($"{id}: no worker joined within 30 s");
            }

            await Task.Delay(100);
        }

        return (id, created["conversation_url"]!.GetValue<string>());
    }

    private static async Task<bool> ReplicaJoinedAsync(HttpClient http, string id)
    {
        var c = await http.GetFromJsonAsync<JsonObject>($"/v2/conversations/{id}?verbose=true");
        return c?["events"]?.AsArray().Any(e => e?["event_type"]?.GetValue<string>() == "system.replica_joined") == true;
    }

    public static void Report(string what, List<double> values)
    {
        values.Sort();
        double P(double q) => values[Math.Min(values.Count - 1, (int)Math.Ceiling(q * values.Count) - 1)];
        Console.WriteLine(FormattableString.Invariant($"{what}: n={values.Count} p50 {P(0.50):F0} ms, p95 {P(0.95):F0} ms, p99 {P(0.99):F0} ms, max {values[^1]:F0} ms"));
    }

    public static string WriteSilence()
    {
        var path = Path.Combine(Path.GetTempPath(), "bench-silence.wav");
        WriteWav(path, new short[16_000 * 30]);
        return path;
    }

    /// <summary>16 kHz mono 16-bit PCM.</summary>
    public static void WriteWav(string path, short[] samples)
    {
        const int rate = 16_000;
        using var w = new BinaryWriter(File.Create(path));
        w.Write("RIFF"u8); w.Write(36 + samples.Length * 2); w.Write("WAVEfmt "u8); w.Write(16); w.Write((short)1); w.Write((short)1);
        w.Write(rate); w.Write(rate * 2); w.Write((short)2); w.Write((short)16); w.Write("data"u8); w.Write(samples.Length * 2);
        foreach (var s in samples)
        {
            w.Write(s);
        }
    }
}
