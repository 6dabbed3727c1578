using System.Net;
using System.Net.Sockets;
using System.Text;
using Platform.LiveKit.Ffi.Rooms;
using Platform.LiveKit.Tokens;
using Xunit.Abstractions;

namespace Platform.LiveKit.Ffi.Tests;

/// <summary>The library's join against a loopback listener standing in for a LiveKit server (no server here).</summary>
[Collection(FfiCollection.Name)]
public sealed class SignallingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Connect_sends_the_signalling_request_with_our_worker_token()
    {
        var issuer = new LiveKitTokenIssuer(new LiveKitOptions { Url = "http://127.0.0.1", ApiKey = "APIkey1", ApiSecret = "secret-of-at-least-32-characters-long!!" });
        var token = issuer.CreateRenderWorkerToken("conv-room", "worker-1", "Replica", TimeSpan.FromMinutes(5), publishOnBehalfOf: "agent-7");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var before = FfiHandle.Outstanding;

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var connect = LiveKitRoom.ConnectAsync($"ws://127.0.0.1:{port}", token,
            new LiveKitConnectOptions { JoinRetries = 0, ConnectTimeout = TimeSpan.FromSeconds(5) }, deadline.Token);

        string head;
        using (var socket = await listener.AcceptSocketAsync(deadline.Token))
        {
            head = await ReadHeadAsync(socket, deadline.Token);
            // Not a LiveKit server: refuse the upgrade, so the join fails fast.
            await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), deadline.Token);
        }

        var requestLine = head.Split("\r\n")[0];
        output.WriteLine(requestLine.Length > 160 ? requestLine[..160] + "..." : requestLine);
        Assert.Matches(@"^GET /rtc(/v1)?\?\S+ HTTP/1\.1$", requestLine);
        var headers = head.Split("\r\n").Skip(1).Where(l => l.Contains(':'))
            .ToDictionary(l => l[..l.IndexOf(':')].Trim().ToLowerInvariant(), l => l[(l.IndexOf(':') + 1)..].Trim());
        Assert.Equal($"Bearer {token}", headers["authorization"]);
        Assert.Equal("websocket", headers["upgrade"].ToLowerInvariant());

        // Keep refusing whatever else the library tries (validation request, retries) until it gives up.
        var refuse = RefuseAllAsync(listener, deadline.Token);
        var failure = await Assert.ThrowsAsync<FfiException>(() => connect);
        Assert.Contains("could not join", failure.Message);
        Assert.Equal(before, FfiHandle.Outstanding);
        await deadline.CancelAsync();
        await refuse;
    }

    private static async Task RefuseAllAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                using var socket = await listener.AcceptSocketAsync(cancellationToken);
                await ReadHeadAsync(socket, cancellationToken);
                await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<string> ReadHeadAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var length = 0;
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            if (n == 0) break;
            length += n;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            if (text.Contains("\r\n\r\n")) return text;
        }
        return Encoding.ASCII.GetString(buffer, 0, length);
    }
}
