using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;

// Load generator for POST /v2/conversations (test_mode) against a running stack; see bench/create-conversations.sh.
// Usage: Platform.Bench.Api <api-url> <api-key> <persona-id> <postgres-connection> [rate=200] [seconds=30] [concurrency=32]
if (args.Length < 4)
{
    Console.Error.WriteLine("usage: Platform.Bench.Api <api-url> <api-key> <persona-id> <postgres-connection> [rate] [seconds] [concurrency]");
    return 2;
}
var (url, key, persona, pg) = (args[0], args[1], args[2], args[3]);
var rate = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 200;
var seconds = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 30;
var concurrency = args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : 32;

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
{
    BaseAddress = new Uri(url),
    Timeout = TimeSpan.FromSeconds(10),
};
http.DefaultRequestHeaders.Add("x-api-key", key);
var body = $$"""{"persona_id":"{{persona}}","test_mode":true,"conversation_name":"bench"}""";

async Task<(bool Ok, double Ms, int Status)> CreateAsync()
{
    var sw = Stopwatch.StartNew();
    try
    {
        using var response = await http.PostAsync("/v2/conversations", new StringContent(body, Encoding.UTF8, "application/json"));
        await response.Content.ReadAsByteArrayAsync();
        return ((int)response.StatusCode == 200, sw.Elapsed.TotalMilliseconds, (int)response.StatusCode);
    }
    catch (Exception)
    {
        return (false, sw.Elapsed.TotalMilliseconds, 0);
    }
}

// Warm-up: activations, JIT, connection pools.
for (var i = 0; i < 200; i++)
{
    await CreateAsync();
}

var before = await WritesAsync(pg);
var latencies = new List<double>();
var errors = new Dictionary<int, int>();
var gate = new SemaphoreSlim(concurrency);
var tasks = new List<Task>();
var clock = Stopwatch.StartNew();
var total = rate * seconds;
for (var i = 0; i < total; i++)
{
    // Open-loop schedule: request i is due at i / rate seconds, whatever the previous ones did.
    var due = TimeSpan.FromSeconds((double)i / rate);
    var wait = due - clock.Elapsed;
    if (wait > TimeSpan.Zero)
    {
        await Task.Delay(wait);
    }
    await gate.WaitAsync();
    tasks.Add(Task.Run(async () =>
    {
        var (ok, ms, status) = await CreateAsync();
        lock (latencies)
        {
            latencies.Add(ms);
            if (!ok)
            {
                errors[status] = errors.GetValueOrDefault(status) + 1;
            }
        }
        gate.Release();
    }));
}
await Task.WhenAll(tasks);
var elapsed = clock.Elapsed.TotalSeconds;
await Task.Delay(2000); // PostgreSQL publishes backend statistics at most once a second
var after = await WritesAsync(pg);

latencies.Sort();
double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
var errorCount = errors.Values.Sum();
Console.WriteLine($"creates        {latencies.Count} in {elapsed:F1} s = {latencies.Count / elapsed:F1}/s (target rate {rate}/s, concurrency {concurrency})");
Console.WriteLine($"latency ms     p50 {P(0.50):F1}  p95 {P(0.95):F1}  p99 {P(0.99):F1}  max {latencies[^1]:F1}");
Console.WriteLine($"errors         {errorCount}{(errorCount > 0 ? " (" + string.Join(", ", errors.Select(e => $"{e.Key}: {e.Value}")) + ")" : "")}");
Console.WriteLine($"pg per create  {(after.Commits - before.Commits) / (double)latencies.Count:F2} commits, {(after.Rows - before.Rows) / (double)latencies.Count:F2} rows written (insert+update+delete)");
return errorCount == 0 ? 0 : 1;

static async Task<(long Commits, long Rows)> WritesAsync(string cs)
{
    await using var conn = new NpgsqlConnection(cs);
    await conn.OpenAsync();
    await using var cmd = new NpgsqlCommand("SELECT pg_stat_clear_snapshot(); SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()", conn);
    await using var reader = await cmd.ExecuteReaderAsync();
    await reader.NextResultAsync();
    await reader.ReadAsync();
    return (reader.GetInt64(0), reader.GetInt64(1));
}
