// In Chromium, against a running platform with a warm pool (the conversation's worker has joined before the page opens):
//   Platform.Bench.Call --api http://127.0.0.1:5592 --key sk_… --persona p… [--runs 20] [--mic silence.wav]
//     navigation → first replica frame: each run creates a conversation, waits until its worker has joined, opens
//     conversation_url in a fresh browser context, presses Join as soon as it is offered, and reads the page's
//     performance marks 'first-frame' (the first decoded frame drawn on the canvas: the preview's, before or after
//     the click), the stages before it ('socket-open', 'video-in', 'video-decoded'), 'join' (the click) and 'live'
//     (the worker's answer to hello). Prints p50/p95/p99.
//   Platform.Bench.Call … --response [--runs 12]
//     response latency as heard on the page (ResponseLatency.cs).
using System.Globalization;
using Microsoft.Playwright;

var api = Arg("--api") ?? "http://127.0.0.1:5080";
var key = Arg("--key") ?? throw new ArgumentException("--key <tenant API key> is required");
var persona = Arg("--persona") ?? throw new ArgumentException("--persona <persona id> is required");
var runs = int.Parse(Arg("--runs") ?? "20", CultureInfo.InvariantCulture);

using var http = new HttpClient { BaseAddress = new Uri(api) };
http.DefaultRequestHeaders.Add("x-api-key", key);
if (args.Contains("--response"))
{
    return await ResponseLatency.RunAsync(http, persona, runs);
}

var mic = Arg("--mic") ?? CallBench.WriteSilence();
using var playwright = await Playwright.CreateAsync();
await using var browser = await CallBench.LaunchAsync(playwright, mic);
var firstFrame = new List<double>();
var joinToLive = new List<double>();
var stages = new[] { "socket-open", "video-in", "video-decoded", "first-frame" };
var stageTimes = stages.ToDictionary(s => s, _ => new List<double>()); // each stage since the one before (navigation for the first)
var beforeJoin = 0;
for (var i = 0; i < runs + 1; i++) // run 0 warms the browser's caches and is not counted
{
    var (id, url) = await CallBench.WarmConversationAsync(http, persona);
    await using var context = await browser.NewContextAsync();
    var page = await context.NewPageAsync();
    await page.GotoAsync(url);
    await page.ClickAsync("#notice-action"); // Join, as soon as it is clickable
    await page.WaitForFunctionAsync("() => ['first-frame', 'live'].every(n => performance.getEntriesByName(n).length > 0)", null, new() { Timeout = 30_000 });
    var names = stages.Append("join").Append("live").ToArray();
    var marks = await page.EvaluateAsync<double[]>("(names) => names.map(n => performance.getEntriesByName(n)[0]?.startTime ?? -1)", names);
    var at = names.Zip(marks).ToDictionary(p => p.First, p => p.Second);
    var (frame, join, live) = (at["first-frame"], at["join"], at["live"]);
    var steps = stages.Select((s, k) => at[s] - (k == 0 ? 0 : at[stages[k - 1]])).ToArray();
    if (i > 0)
    {
        firstFrame.Add(frame);
        joinToLive.Add(live - join);
        beforeJoin += frame < join ? 1 : 0;
        for (var k = 0; k < stages.Length; k++)
        {
            stageTimes[stages[k]].Add(steps[k]);
        }
    }
    Console.WriteLine(FormattableString.Invariant(
        $"run {i,2}: navigation → first frame {frame,5:F0} ms (socket open +{steps[0],4:F0}, first video +{steps[1],4:F0}, decoded +{steps[2],4:F0}, drawn +{steps[3],3:F0}; join at {join,4:F0} ms, join → live {live - join,4:F0} ms){(i == 0 ? "  [warm-up]" : "")}"));
    await http.PostAsync($"/v2/conversations/{id}/end", null);
}

CallBench.Report("navigation → first frame", firstFrame);
CallBench.Report("join click → live (hello answered)", joinToLive);
CallBench.Report("  navigation → socket open", stageTimes["socket-open"]);
CallBench.Report("  socket open → first video message", stageTimes["video-in"]);
CallBench.Report("  first video message → decoded", stageTimes["video-decoded"]);
CallBench.Report("  decoded → drawn", stageTimes["first-frame"]);
Console.WriteLine($"first frame drawn before the Join click in {beforeJoin} of {runs} runs");
return 0;

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
