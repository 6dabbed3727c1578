// Navigation to first replica frame, in Chromium, against a running platform with a warm pool:
//   Platform.Bench.Call --api http://127.0.0.1:5592 --key sk_… --persona p… [--runs 20] [--mic silence.wav]
// Each run creates a conversation, waits until its worker has joined (the replica is warm), opens conversation_url in a
// fresh browser context, presses Join as soon as it is offered, and reads the page's performance marks: 'join' and
// 'first-frame' (the first decoded frame drawn on the canvas), both from navigation start. Prints p50/p95/p99.
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

var api = Arg("--api") ?? "http://127.0.0.1:5080";
var key = Arg("--key") ?? throw new ArgumentException("--key <tenant API key> is required");
var persona = Arg("--persona") ?? throw new ArgumentException("--persona <persona id> is required");
var runs = int.Parse(Arg("--runs") ?? "20", CultureInfo.InvariantCulture);
var mic = Arg("--mic") ?? WriteSilence();

using var http = new HttpClient { BaseAddress = new Uri(api) };
http.DefaultRequestHeaders.Add("x-api-key", key);
using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = "/usr/bin/chromium",
    Headless = true,
    Args =
    [
        "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", $"--use-file-for-fake-audio-capture={mic}",
    ],
});

var firstFrame = new List<double>();
var afterJoin = new List<double>();
for (var i = 0; i < runs + 1; i++) // run 0 warms the browser's caches and is not counted
{
    var created = await (await http.PostAsJsonAsync("/v2/conversations", new { persona_id = persona })).Content.ReadFromJsonAsync<JsonObject>()
        ?? throw new InvalidOperationException("no body");
    var id = created["conversation_id"]?.GetValue<string>() ?? throw new InvalidOperationException($"create failed: {created}");
    var url = created["conversation_url"]!.GetValue<string>();
    var warmBy = DateTime.UtcNow.AddSeconds(30);
    while (!await ReplicaJoinedAsync(id))
    {
        if (DateTime.UtcNow > warmBy) throw new TimeoutException($"{id}: no worker joined within 30 s");
        await Task.Delay(100);
    }

    await using var context = await browser.NewContextAsync();
    var page = await context.NewPageAsync();
    await page.GotoAsync(url);
    await page.ClickAsync("#notice-action"); // Join, as soon as it is clickable
    await page.WaitForFunctionAsync("() => performance.getEntriesByName('first-frame').length > 0", null, new() { Timeout = 30_000 });
    var frame = await page.EvaluateAsync<double>("() => performance.getEntriesByName('first-frame')[0].startTime");
    var join = await page.EvaluateAsync<double>("() => performance.getEntriesByName('join')[0].startTime");
    if (i > 0)
    {
        firstFrame.Add(frame);
        afterJoin.Add(frame - join);
    }
    Console.WriteLine(FormattableString.Invariant($"run {i,2}: navigation → first frame {frame,7:F0} ms (join at {join,6:F0} ms, join → frame {frame - join,6:F0} ms){(i == 0 ? "  [warm-up]" : "")}"));
    await http.PostAsync($"/v2/conversations/{id}/end", null);
}

Report("navigation → first frame", firstFrame);
Report("join click → first frame", afterJoin);
return 0;

async Task<bool> ReplicaJoinedAsync(string id)
{
    var c = await http.GetFromJsonAsync<JsonObject>($"/v2/conversations/{id}?verbose=true");
    return c?["events"]?.AsArray().Any(e => e?["event_type"]?.GetValue<string>() == "system.replica_joined") == true;
}

static void Report(string what, List<double> values)
{
    values.Sort();
    double P(double q) => values[Math.Min(values.Count - 1, (int)Math.Ceiling(q * values.Count) - 1)];
    Console.WriteLine(FormattableString.Invariant($"{what}: n={values.Count} p50 {P(0.50):F0} ms, p95 {P(0.95):F0} ms, p99 {P(0.99):F0} ms, max {values[^1]:F0} ms"));
}

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string WriteSilence()
{
    var path = Path.Combine(Path.GetTempPath(), "bench-silence.wav");
    const int rate = 16_000, seconds = 30;
    using var w = new BinaryWriter(File.Create(path));
    w.Write("RIFF"u8); w.Write(36 + rate * seconds * 2); w.Write("WAVEfmt "u8); w.Write(16); w.Write((short)1); w.Write((short)1);
    w.Write(rate); w.Write(rate * 2); w.Write((short)2); w.Write((short)16); w.Write("data"u8); w.Write(rate * seconds * 2);
    w.Write(new byte[rate * seconds * 2]);
    return path;
}
