using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.LiveKit.Tests.Infrastructure;

/// <summary>
/// LiveKit's official node server SDK (livekit-server-sdk@2.19.2, installed by infra/install.d/40-livekit-sdk.sh
/// into .assets/livekit-sdk) driven through node/sdk-harness.cjs: one node process per test class (a class
/// fixture), requests and answers as JSON lines.
/// </summary>
public sealed class NodeSdk : IAsyncLifetime
{
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly StringBuilder _stderr = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private Process? _node;
    private int _nextId;

    public Task InitializeAsync()
    {
        var sdkDir = SdkDirectory();
        var script = Path.Combine(AppContext.BaseDirectory, "node", "sdk-harness.cjs");
        var psi = new ProcessStartInfo("node", [script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        psi.Environment["LIVEKIT_SDK_DIR"] = sdkDir;
        _node = Process.Start(psi) ?? throw new InvalidOperationException("node did not start");
        _node.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_stderr) _stderr.AppendLine(e.Data);
        };
        _node.BeginErrorReadLine();
        _ = Task.Run(ReadLoop);
        return Task.CompletedTask;
    }

    /// <summary>Runs one harness operation; throws <see cref="NodeSdkError"/> when the SDK threw.</summary>
    public async Task<JsonNode?> CallAsync(string op, object args)
    {
        var id = Interlocked.Increment(ref _nextId);
        var tcs = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        var line = JsonSerializer.Serialize(new { id, op, args });
        await _writeLock.WaitAsync();
        try
        {
            await _node!.StandardInput.WriteLineAsync(line);
            await _node.StandardInput.FlushAsync();
        }
        finally
        {
            _writeLock.Release();
        }
        var done = await Task.WhenAny(tcs.Task, Task.Delay(TimeSpan.FromSeconds(30)));
        if (done != tcs.Task)
            throw new TimeoutException($"node harness did not answer '{op}' within 30 s. stderr:\n{Stderr()}");
        var answer = await tcs.Task;
        if (answer["ok"]!.GetValue<bool>()) return answer["result"];
        var error = answer["error"]!.AsObject();
        throw new NodeSdkError(
            error["message"]?.GetValue<string>() ?? "",
            error["status"]?.GetValue<int>(),
            error["code"]?.GetValue<string>());
    }

    public async Task<string> StringAsync(string op, object args) => (await CallAsync(op, args))!.GetValue<string>();

    private async Task ReadLoop()
    {
        try
        {
            while (await _node!.StandardOutput.ReadLineAsync() is { } line)
            {
                var msg = JsonNode.Parse(line)!.AsObject();
                if (msg["id"]?.GetValue<int>() is { } id && _pending.TryRemove(id, out var tcs)) tcs.TrySetResult(msg);
            }
        }
        catch (Exception e)
        {
            foreach (var p in _pending.Values) p.TrySetException(e);
            return;
        }
        var exited = new InvalidOperationException($"node harness exited. stderr:\n{Stderr()}");
        foreach (var p in _pending.Values) p.TrySetException(exited);
    }

    private string Stderr()
    {
        lock (_stderr) return _stderr.ToString();
    }

    public async Task DisposeAsync()
    {
        if (_node is null) return;
        _node.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _node.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _node.Kill();
        }
        _node.Dispose();
    }

    /// <summary>PLATFORM_LIVEKIT_SDK_DIR, else .assets/livekit-sdk next to Platform.sln.</summary>
    public static string SdkDirectory()
    {
        var dir = Environment.GetEnvironmentVariable("PLATFORM_LIVEKIT_SDK_DIR");
        if (string.IsNullOrEmpty(dir))
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "Platform.sln"))) root = root.Parent;
            if (root is null) throw new InvalidOperationException("Platform.sln not found above " + AppContext.BaseDirectory);
            dir = Path.Combine(root.FullName, ".assets", "livekit-sdk");
        }
        if (!File.Exists(Path.Combine(dir, "node_modules", "livekit-server-sdk", "package.json")))
            throw new InvalidOperationException(
                $"livekit-server-sdk is not installed in {dir}: run infra/install.d/40-livekit-sdk.sh (or infra/install.sh).");
        return dir;
    }
}

/// <summary>The official SDK threw (its message, and for server errors the HTTP status and Twirp code).</summary>
public sealed class NodeSdkError(string message, int? status, string? code) : Exception(message)
{
    public int? Status { get; } = status;
    public string? Code { get; } = code;
}
