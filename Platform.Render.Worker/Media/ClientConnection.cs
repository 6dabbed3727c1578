using System.Net.WebSockets;
using System.Threading.Channels;

namespace Platform.Render.Worker.Media;

/// <summary>
/// One page connected to a session. Sends go through a queue drained by one task, so the session never waits on the
/// network. Audio and JSON are always queued; video is dropped while the queue holds more than
/// <see cref="VideoBacklogBytes"/> (the socket's send buffer is full) and resumes at the next keyframe.
/// </summary>
public sealed class ClientConnection : IAsyncDisposable
{
    /// <summary>Queued bytes above which video frames are dropped (about a third of a second of 720p video).</summary>
    public const int VideoBacklogBytes = 256 * 1024;

    /// <summary>Queued bytes above which the page is considered gone and the connection closed.</summary>
    public const int DeadBacklogBytes = 8 * 1024 * 1024;

    private readonly WebSocket _socket;
    private readonly Channel<(byte[] Data, WebSocketMessageType Type)> _queue = Channel.CreateUnbounded<(byte[], WebSocketMessageType)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _life = new();
    private readonly Task _sender;
    private long _queued;
    private bool _awaitingKeyframe = true;
    private long _droppedVideo;

    public ClientConnection(WebSocket socket, string clientId)
    {
        _socket = socket;
        ClientId = clientId;
        _sender = Task.Run(SendLoopAsync);
    }

    public string ClientId { get; }

    /// <summary>Set by the page's <c>system.hello</c>: no video wanted.</summary>
    public bool AudioOnly { get; set; }

    /// <summary>Set by the page's <c>system.hello</c>: the person is in the call (present, heard, sent audio and
    /// events). Before it, a page that asked for a preview gets only the picture.</summary>
    public bool Joined { get; set; }

    /// <summary>Cancelled when the connection is closing (send failure or close).</summary>
    public CancellationToken Closing => _life.Token;

    public long DroppedVideoFrames => Interlocked.Read(ref _droppedVideo);

    /// <summary>True until a keyframe has been queued since the connection opened or since a drop.</summary>
    public bool AwaitingKeyframe => Volatile.Read(ref _awaitingKeyframe);

    /// <summary>Queues a video frame, or drops it; false when dropped (the caller then asks the encoder for a keyframe).</summary>
    public bool TrySendVideo(byte[] message, bool keyframe)
    {
        if (AudioOnly)
        {
            return true;
        }
        if (Interlocked.Read(ref _queued) > VideoBacklogBytes)
        {
            Volatile.Write(ref _awaitingKeyframe, true);
            Interlocked.Increment(ref _droppedVideo);
            return false;
        }
        if (Volatile.Read(ref _awaitingKeyframe))
        {
            if (!keyframe)
            {
                Interlocked.Increment(ref _droppedVideo);
                return false;
            }
            Volatile.Write(ref _awaitingKeyframe, false);
        }
        Enqueue(message, WebSocketMessageType.Binary);
        return true;
    }

    public void SendAudio(byte[] message) => Enqueue(message, WebSocketMessageType.Binary);

    public void SendText(byte[] utf8Json) => Enqueue(utf8Json, WebSocketMessageType.Text);

    /// <summary>Sends what is queued, then a close frame with <paramref name="reason"/>.</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        _queue.Writer.TryComplete();
        try
        {
            await _sender.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(status, reason, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or TimeoutException or ObjectDisposedException)
        {
            // The page is gone already.
        }
        await _life.CancelAsync().ConfigureAwait(false);
    }

    private void Enqueue(byte[] data, WebSocketMessageType type)
    {
        if (Interlocked.Add(ref _queued, data.Length) > DeadBacklogBytes)
        {
            _queue.Writer.TryComplete();
            _life.Cancel();
            return;
        }
        if (!_queue.Writer.TryWrite((data, type)))
        {
            Interlocked.Add(ref _queued, -data.Length);
        }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            await foreach (var (data, type) in _queue.Reader.ReadAllAsync(_life.Token).ConfigureAwait(false))
            {
                await _socket.SendAsync(data, type, endOfMessage: true, _life.Token).ConfigureAwait(false);
                Interlocked.Add(ref _queued, -data.Length);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            await _life.CancelAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _life.CancelAsync().ConfigureAwait(false);
        try
        {
            await _sender.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _life.Dispose();
    }
}
