using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Platform.LiveKit.Tests.Infrastructure;

/// <summary>One request as the loopback server saw it.</summary>
public sealed record RecordedRequest(string Method, string Path, string? ContentType, string? Authorization, byte[] Body);

/// <summary>One canned answer.</summary>
public sealed record CannedResponse(int Status, string? ContentType, string Body)
{
    public static CannedResponse Json(string body, int status = 200) => new(status, "application/json", body);
}

/// <summary>
/// A loopback HTTP server (Kestrel on 127.0.0.1, port 0) standing in for LiveKit: it records every request and
/// answers from a queue of canned responses, or with <see cref="Fallback"/> when the queue is empty.
/// </summary>
public sealed class TwirpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Func<HttpContext, Task<CannedResponse?>>> _answers = new();

    private readonly SemaphoreSlim _arrived = new(0);

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();
    public CannedResponse Fallback { get; set; } = CannedResponse.Json("{}");
    public string Url { get; private set; } = "";

    private TwirpServer()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    public static async Task<TwirpServer> StartAsync()
    {
        var server = new TwirpServer();
        await server._app.StartAsync();
        server.Url = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    public void Enqueue(CannedResponse response) => _answers.Enqueue(_ => Task.FromResult<CannedResponse?>(response));

    /// <summary>An answer computed per request; returning null aborts the connection (a network error).</summary>
    public void Enqueue(Func<HttpContext, Task<CannedResponse?>> answer) => _answers.Enqueue(answer);

    public RecordedRequest TakeSingle()
    {
        Assert.True(Requests.Count == 1, $"expected exactly one request, saw {Requests.Count}");
        Requests.TryDequeue(out var r);
        return r!;
    }

    /// <summary>Waits until at least <paramref name="count"/> requests have arrived (10 s deadline).</summary>
    public async Task WaitForRequestsAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Requests.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _arrived.WaitAsync(left))
                Assert.Fail($"the loopback server saw {Requests.Count} requests within 10 s, expected {count}");
        }
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        using var ms = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(ms);
        Requests.Enqueue(new RecordedRequest(ctx.Request.Method, ctx.Request.Path.Value ?? "", ctx.Request.ContentType,
            ctx.Request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null, ms.ToArray()));
        _arrived.Release();
        var response = _answers.TryDequeue(out var answer) ? await answer(ctx) : Fallback;
        if (response is null)
        {
            ctx.Abort();
            return;
        }
        ctx.Response.StatusCode = response.Status;
        if (response.ContentType is not null) ctx.Response.ContentType = response.ContentType;
        await ctx.Response.WriteAsync(response.Body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
