using System.Net.WebSockets;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Platform.Contracts;
using Platform.LiveKit.Ffi.Avatar;
using Platform.LiveKit.Ffi.Conversations;
using Platform.LiveKit.Ffi.Rooms;
using Platform.Render.Audio;
using Platform.Render.Face;
using Platform.Render.Sessions;

namespace Platform.Render.Worker.Media;

/// <summary>
/// One conversation running on this worker: the engine's <see cref="ConversationSession"/> driven by wall-clock ticks
/// (the page's microphone through a <see cref="MicrophoneBuffer"/>, silence when nobody speaks), its output fanned out
/// to the connected pages (VP8 video, PCM audio, CVI app messages), and its in-call events recorded by the
/// conversation grain in order (transcript, per-turn latency). A resumed session (after a worker failover) starts
/// from the recorded history and continues <c>seq</c> and turn numbers. On LiveKit (<see cref="SessionSpec.OnLiveKit"/>)
/// the media goes through the room instead (<see cref="AttachRoom"/>): the participant's microphone and messages come
/// in through <see cref="ILiveKitConversationHandler"/>, raw frames and the same app messages go out; presence then
/// comes from LiveKit's webhooks.
/// </summary>
public sealed partial class LiveSession : IMediaSink, ILiveKitConversationHandler, ILiveKitRoomObserver, IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(20);

    private readonly SessionSpec _spec;
    private readonly SessionSettings _settings;
    private readonly IGrainFactory _grains;
    private readonly string _workerId;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConversationSession _session;
    private readonly IReadOnlyList<IDisposable> _owned;
    private readonly Render.Video.Vp8Encoder? _encoder;
    private readonly MicrophoneBuffer _microphone = new();
    private readonly Lock _clientsGate = new();
    private readonly List<ClientConnection> _clients = [];
    private readonly Channel<SessionEventRecord> _records = Channel.CreateUnbounded<SessionEventRecord>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<int> _metricsRecorded = [];
    private long _originTicks; // UTC ticks of media time zero: when the media clock started, on by any time it skipped
    private Task _pacer = Task.CompletedTask;
    private Task _recorder = Task.CompletedTask;
    private ClientConnection? _speaker; // whose microphone feeds the session
    private ILiveKitRoomLink? _room; // on LiveKit: the room, while joined
    private string? _roomSpeaker; // on LiveKit: the participant whose microphone feeds the session
    private long _nextSeq;
    private volatile bool _keyframeWanted = true;
    private int _greeted;
    private int _ended;
    private readonly (PacedSender Sender, OutputPacer Pacer)? _pacing; // null: media leaves as soon as it is made
    private readonly AvatarSpeech? _avatarSpeech; // avatar mode: the agent's speech into the session
    private readonly AvatarSession? _avatar; // avatar mode: the agent's byte streams and RPC in its room

    public LiveSession(SessionSpec spec, SessionSettings settings, WorkerEngine engine, IGrainFactory grains, string workerId,
        VideoEncoderFactory? encoders, TimeProvider time, ILoggerFactory loggers, (PacedSender Sender, OutputPacer Pacer)? pacing = null)
    {
        _pacing = pacing;
        _spec = spec;
        _settings = settings;
        _grains = grains;
        _workerId = workerId;
        _time = time;
        _logger = loggers.CreateLogger<LiveSession>();
        _nextSeq = spec.NextSeq;
        _greeted = spec.Resumed ? 1 : 0;
        _originTicks = time.GetUtcNow().UtcTicks;
        var (resources, owned) = engine.For(settings);
        _owned = owned;
        _session = new ConversationSession(resources, settings.Options, this, settings.Llm, timeProvider: time, httpClient: engine.Http, loggerFactory: loggers);
        _encoder = settings.Options.AudioOnly ? null : encoders?.Invoke(settings.Options.Width, settings.Options.Height, settings.Options.FramesPerSecond);
        if (spec.IsAvatar)
        {
            _greeted = 1; // the agent speaks for itself
            _avatarSpeech = new AvatarSpeech(_session);
            _avatar = new AvatarSession(_avatarSpeech, spec.AvatarAgent);
        }
    }

    /// <summary>Avatar mode: the replica renders the speech of the tenant's agent in the tenant's room.</summary>
    public bool IsAvatar => _spec.IsAvatar;

    /// <summary>Avatar mode: segments played to the end and segments cut off by the agent.</summary>
    public (int Finished, int Interrupted) AvatarSegments => _avatar?.Segments ?? (0, 0);

    public ConversationId Conversation => _spec.Conversation;

    /// <summary>The media goes through a LiveKit room rather than to pages on the embedded transport.</summary>
    public bool OnLiveKit => _spec.OnLiveKit;

    /// <summary>On LiveKit: the room link the output goes to from now on (null while between rooms).</summary>
    public void AttachRoom(ILiveKitRoomLink? room)
    {
        Volatile.Write(ref _room, room);
        _keyframeWanted = true;
    }

    public SessionSettings Settings => _settings;

    /// <summary>The engine session (tests read its clock and metrics).</summary>
    public ConversationSession Session => _session;

    public int Clients
    {
        get
        {
            lock (_clientsGate)
            {
                return _clients.Count;
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _session.StartAsync(cancellationToken).ConfigureAwait(false);
        // Media time zero is now, when the clock starts (the engine's start may have taken a while): events' timestamps
        // are this plus their media time.
        var started = _time.GetTimestamp();
        Volatile.Write(ref _originTicks, _time.GetUtcNow().UtcTicks);
        foreach (var notice in _settings.Notices)
        {
            Record(InCallEventTypes.Error, new JsonObject { ["code"] = "settings.notice", ["message"] = notice }, null, null, TimeSpan.Zero);
        }
        if (!_settings.Options.AudioOnly && _encoder is null)
        {
            LogNoEncoder(_spec.Conversation.ToString());
        }
        _recorder = Task.Run(RecordLoopAsync, CancellationToken.None);
        _pacer = Task.Run(() => PaceAsync(started), CancellationToken.None);
    }

    /// <summary>Serves one page until it closes (or the session ends).</summary>
    public async Task RunClientAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var client = new ClientConnection(socket, "user-" + Guid.NewGuid().ToString("N")[..12]);
        await using var _ = client.ConfigureAwait(false);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, client.Closing, _stop.Token);
        var hello = false;
        var previewing = false;
        var buffer = new MessageBuffer();
        try
        {
            while (!linked.IsCancellationRequested)
            {
                var (message, type, tooLarge) = await ReceiveAsync(socket, buffer, linked.Token).ConfigureAwait(false);
                if (type == WebSocketMessageType.Close)
                {
                    break;
                }
                if (tooLarge)
                {
                    SendError(client.SendText, "message.too_large", $"A message may be at most {InCallMessages.MaxTextBytes} bytes; it was skipped.");
                    continue;
                }
                if (type == WebSocketMessageType.Binary)
                {
                    if (MediaWire.TryReadMicrophone(message.Span, out var rate, out var channels, out var pcm) is { } problem)
                    {
                        SendError(client.SendText, "media.invalid", problem);
                    }
                    else if (hello && ReferenceEquals(Volatile.Read(ref _speaker), client))
                    {
                        _microphone.Write(pcm, rate, channels);
                    }
                    continue;
                }
                var command = InCallMessages.Parse(message.Span);
                if (command is InCallCommand.Hello h)
                {
                    if (!hello)
                    {
                        hello = true;
                        client.AudioOnly = h.AudioOnly;
                        await AttachAsync(client).ConfigureAwait(false);
                    }
                    continue;
                }
                if (!hello)
                {
                    switch (command)
                    {
                        case InCallCommand.Preview:
                            previewing = true;
                            AddClient(client);
                            break;
                        case InCallCommand.KeyframeRequest when previewing:
                            _keyframeWanted = true;
                            break;
                        default:
                            SendError(client.SendText, "message.order", "The first message must be 'system.hello' (or 'system.preview', for the picture alone until then).");
                            break;
                    }
                    continue;
                }
                await HandleAsync(client.SendText, command).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The page went away or the session is ending.
        }
        finally
        {
            if (hello)
            {
                await DetachAsync(client).ConfigureAwait(false);
            }
            else
            {
                RemoveClient(client);
            }
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "closed").ConfigureAwait(false);
        }
    }

    /// <summary>The page gets the picture from now on (a preview: before its hello it is not in the call, so it is
    /// neither present nor heard, and gets no audio or events).</summary>
    private void AddClient(ClientConnection client)
    {
        lock (_clientsGate)
        {
            if (!_clients.Contains(client))
            {
                _clients.Add(client);
                _keyframeWanted = true;
            }
        }
    }

    /// <summary>Drops the page from the output (and, if it was the one heard, hands the microphone to the page that
    /// joined last).</summary>
    private void RemoveClient(ClientConnection client)
    {
        lock (_clientsGate)
        {
            if (_clients.Remove(client) && ReferenceEquals(_speaker, client))
            {
                _speaker = _clients.LastOrDefault(c => c.Joined);
            }
        }
    }

    private async Task AttachAsync(ClientConnection client)
    {
        AddClient(client);
        lock (_clientsGate)
        {
            client.Joined = true;
        }
        Volatile.Write(ref _speaker, client);
        _microphone.Reset();
        _keyframeWanted = true;
        client.SendText(Ready(client.AudioOnly));
        await Presence(PresenceRole.Participant, client.ClientId, joined: true).ConfigureAwait(false);
        await GreetOnceAsync().ConfigureAwait(false);
    }

    /// <summary>The custom greeting, once per conversation (not again after a failover), when the user arrives.</summary>
    private async Task GreetOnceAsync()
    {
        if (Interlocked.Exchange(ref _greeted, 1) == 0 && !string.IsNullOrWhiteSpace(_settings.Greeting))
        {
            await _session.SayAsync(_settings.Greeting!).ConfigureAwait(false);
        }
    }

    /// <summary><c>system.ready</c>: what the page plays and shows.</summary>
    private byte[] Ready(bool clientAudioOnly)
    {
        var o = _settings.Options;
        return InCallMessages.Envelope("system", "system.ready", _spec.Conversation.Local, new JsonObject
        {
            ["audio_only"] = o.AudioOnly || clientAudioOnly,
            ["width"] = o.Width,
            ["height"] = o.Height,
            ["fps"] = o.FramesPerSecond,
            ["captions"] = _settings.Captions,
            ["resumed"] = _spec.Resumed,
            ["video"] = (OnLiveKit ? !o.AudioOnly : _encoder is not null) && !clientAudioOnly,
        });
    }

    private async Task DetachAsync(ClientConnection client)
    {
        RemoveClient(client);
        await Presence(PresenceRole.Participant, client.ClientId, joined: false).ConfigureAwait(false);
    }

    /// <summary>Carries out one in-call message; problems go back through <paramref name="reply"/>.</summary>
    private async Task HandleAsync(Action<byte[]> reply, InCallCommand command)
    {
        switch (command)
        {
            case InCallCommand.Playback p:
                // The microphone audio that came before the report waits in the jitter buffer: the page reported while
                // capturing that much past what the session has heard (the echo canceller's delay hint depends on it).
                _session.ReportPlaybackPosition(p.MediaTime, MediaTime.FromSamples(_microphone.Buffered, MicrophoneBuffer.Rate), p.Queued, p.Starved);
                break;
            case InCallCommand.KeyframeRequest:
                _keyframeWanted = true;
                break;
            case InCallCommand.Echo e:
                await _session.SayAsync(e.Text).ConfigureAwait(false);
                break;
            case InCallCommand.EchoAudio a:
                await _session.EchoAudioAsync(a.Pcm, a.SampleRate, a.Done, a.InferenceId).ConfigureAwait(false);
                break;
            case InCallCommand.Respond or InCallCommand.Context when _session.Options.Mode == SessionMode.Echo:
                SendError(reply, "message.unsupported", "This persona runs in echo mode (no LLM): use 'conversation.echo'.");
                break;
            case InCallCommand.Respond r:
                await _session.RespondAsync(r.Text).ConfigureAwait(false);
                break;
            case InCallCommand.Interrupt:
                await _session.InterruptAsync().ConfigureAwait(false);
                break;
            case InCallCommand.Context c:
                _session.SetContext(c.Text, c.Append);
                break;
            case InCallCommand.ToolResult t:
                if (!_session.SubmitToolResult(new Thinking.ToolResult(t.ToolCallId, t.Content)))
                {
                    SendError(reply, "tool_result.unknown", $"No turn is waiting for tool call '{t.ToolCallId}'.");
                }
                break;
            case InCallCommand.Invalid invalid:
                SendError(reply, invalid.Code, invalid.Message);
                break;
        }
    }

    // ---- ILiveKitConversationHandler: the room's participants ----

    public async ValueTask OnMicrophoneAsync(string participantIdentity, PcmFrame frame, CancellationToken cancellationToken)
    {
        using (frame)
        {
            // One voice feeds the session: the first participant heard, until they leave.
            if (Interlocked.CompareExchange(ref _roomSpeaker, participantIdentity, null) is { } speaker && speaker != participantIdentity)
            {
                return;
            }
            _microphone.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(frame.Samples), frame.Format.SampleRate, frame.Format.Channels);
        }
        await GreetOnceAsync().ConfigureAwait(false);
    }

    public async ValueTask OnMessageAsync(string participantIdentity, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        if (IsAvatar)
        {
            return; // the tenant's room speaks its own protocol: the agent's speech comes as byte streams
        }
        if (json.Length > InCallMessages.MaxTextBytes)
        {
            SendError(PostToRoom, "message.too_large", $"A message may be at most {InCallMessages.MaxTextBytes} bytes; it was skipped.");
            return;
        }
        var command = InCallMessages.Parse(json.Span);
        if (command is InCallCommand.Hello h)
        {
            PostToRoom(Ready(h.AudioOnly));
            await GreetOnceAsync().ConfigureAwait(false);
            return;
        }
        await HandleAsync(PostToRoom, command).ConfigureAwait(false);
    }

    public ValueTask OnParticipantLeftAsync(string participantIdentity, CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _roomSpeaker, null, participantIdentity) == participantIdentity)
        {
            _microphone.Reset();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Our app messages to the room (not in avatar mode: the tenant's room is theirs).</summary>
    private void PostToRoom(byte[] json)
    {
        if (!IsAvatar)
        {
            Volatile.Read(ref _room)?.Post(json);
        }
    }

    // ---- ILiveKitRoomObserver: avatar mode ----

    public async ValueTask OnJoinedAsync(LiveKitRoom room, CancellationToken cancellationToken)
    {
        if (_avatar is null)
        {
            return;
        }
        _avatar.Attach(room);
        _avatar.StartSegments();
        // The tenant's LiveKit does not report to us: the worker says who is in the call.
        await PresenceAsync(PresenceRole.Replica, _workerId, joined: true).ConfigureAwait(false);
        if (room.Participants.Values.Any(p => p.Identity == _spec.AvatarAgent))
        {
            await PresenceAsync(PresenceRole.Participant, _spec.AvatarAgent!, joined: true).ConfigureAwait(false);
        }
    }

    public async ValueTask OnRoomEventAsync(LiveKitRoomEvent roomEvent, CancellationToken cancellationToken)
    {
        if (_avatar is null)
        {
            return;
        }
        switch (roomEvent)
        {
            case ParticipantJoined joined when joined.Participant.Identity == _spec.AvatarAgent:
                await PresenceAsync(PresenceRole.Participant, _spec.AvatarAgent!, joined: true).ConfigureAwait(false);
                break;
            case ParticipantLeft left when left.Identity == _spec.AvatarAgent:
                await PresenceAsync(PresenceRole.Participant, _spec.AvatarAgent!, joined: false).ConfigureAwait(false);
                break;
        }
        await _avatar.HandleAsync(roomEvent, cancellationToken).ConfigureAwait(false);
    }

    private async Task PresenceAsync(PresenceRole role, string identity, bool joined)
    {
        var grain = _grains.GetGrain<IConversationGrain>(_spec.Conversation.ToGrainKey());
        try
        {
            var result = joined ? await grain.JoinedAsync(role, identity).ConfigureAwait(false) : await grain.LeftAsync(role, identity).ConfigureAwait(false);
            if (result.Problem is { } problem)
            {
                LogPresenceRefused(_spec.Conversation.ToString(), identity, problem.Detail);
            }
        }
        catch (Exception e)
        {
            LogPresenceFailed(_spec.Conversation.ToString(), identity, e);
        }
    }

    /// <summary>Tells the pages the conversation is over (or, with a null reason, that the session moves: they
    /// reconnect), records what is left and closes.</summary>
    public async Task EndAsync(string? shutdownReason)
    {
        if (Interlocked.Exchange(ref _ended, 1) == 1)
        {
            return;
        }
        List<ClientConnection> clients;
        lock (_clientsGate)
        {
            clients = [.. _clients];
        }
        if (shutdownReason is not null)
        {
            PostToRoom(InCallMessages.Envelope("system", "system.ended", _spec.Conversation.Local, new JsonObject { ["shutdown_reason"] = shutdownReason }));
        }
        foreach (var client in clients)
        {
            if (shutdownReason is not null)
            {
                client.SendText(InCallMessages.Envelope("system", "system.ended", _spec.Conversation.Local, new JsonObject { ["shutdown_reason"] = shutdownReason }));
            }
            await client.CloseAsync(shutdownReason is null ? WebSocketCloseStatus.EndpointUnavailable : WebSocketCloseStatus.NormalClosure,
                shutdownReason is null ? "moving" : "ended").ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await EndAsync(null).ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await _pacer.ConfigureAwait(false);
        if (_avatar is not null)
        {
            await _avatar.DisposeAsync().ConfigureAwait(false);
        }
        await _session.DisposeAsync().ConfigureAwait(false);
        RecordNewMetrics();
        _records.Writer.TryComplete();
        await _recorder.ConfigureAwait(false);
        _encoder?.Dispose();
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
        _stop.Dispose();
    }

    // ---- the media clock ----

    private async Task PaceAsync(long started)
    {
        using var timer = new PeriodicTimer(Tick, _time);
        long ticks = 0;
        var tick = new short[MicrophoneBuffer.TickSamples];
        long offset = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                var due = (long)(_time.GetElapsedTime(started) / Tick);
                if (due - ticks > 50)
                {
                    // More than a second behind (the machine stalled): skip ahead, do not burst; media time from
                    // here on is that much nearer its start than the wall clock.
                    Interlocked.Add(ref _originTicks, (due - 50 - ticks) * Tick.Ticks);
                    ticks = due - 50;
                }
                for (; ticks < due; ticks++)
                {
                    if (_microphone.Read(tick, out var now) && now != offset)
                    {
                        // Silence played for late audio, or a trimmed backlog: the page's audio (and the echo of the
                        // replica in it) lands that much later or earlier from here on.
                        await _session.ShiftMicrophoneAsync(MediaTime.FromSamples(now - offset, MicrophoneBuffer.Rate), _stop.Token).ConfigureAwait(false);
                        offset = now;
                    }
                    await _session.PushAudioAsync(tick.AsMemory(), _stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogPacerFailed(_spec.Conversation.ToString(), e);
        }
    }

    // ---- IMediaSink: the session's output ----

    public ValueTask SendVideoAsync(I420Frame frame, CancellationToken cancellationToken)
    {
        if (OnLiveKit)
        {
            return ToRoom(frame, (room, f) => room.SendVideoAsync(f, cancellationToken));
        }
        using (frame)
        {
            List<ClientConnection>? clients = null;
            lock (_clientsGate)
            {
                if (_clients.Count > 0 && _encoder is not null)
                {
                    clients = [.. _clients];
                }
            }
            if (clients is null)
            {
                return ValueTask.CompletedTask;
            }
            var key = _keyframeWanted || clients.Any(c => c.AwaitingKeyframe);
            _keyframeWanted = false;
            byte[] message;
            bool keyframe;
            try
            {
                using var encoded = _encoder!.Encode(frame, key);
                if (encoded is null)
                {
                    return ValueTask.CompletedTask;
                }
                keyframe = encoded.Keyframe;
                message = new byte[MediaWire.HeaderSize + encoded.Length];
                MediaWire.WriteVideoHeader(message, keyframe, frame.Width, frame.Height, frame.Timestamp);
                encoded.Data.Span.CopyTo(message.AsSpan(MediaWire.HeaderSize));
            }
            catch (Exception e)
            {
                LogEncodeFailed(_spec.Conversation.ToString(), e);
                return ValueTask.CompletedTask;
            }
            Send(frame.Timestamp, () =>
            {
                foreach (var client in clients)
                {
                    if (!client.TrySendVideo(message, keyframe))
                    {
                        _keyframeWanted = true;
                    }
                }
            });
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>On LiveKit: the frame goes to the room as it is made (LiveKit paces and encodes), or is dropped between rooms.</summary>
    private ValueTask ToRoom<TFrame>(TFrame frame, Func<ILiveKitRoomLink, TFrame, ValueTask> send)
        where TFrame : IDisposable
    {
        if (Volatile.Read(ref _room) is { } room)
        {
            return send(room, frame);
        }
        frame.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Hands media to the clients now, or at its due time on the paced sender's clock (audio with the
    /// pacer's shorter audio lead).</summary>
    private void Send(TimeSpan mediaAt, Action send, bool audio = false)
    {
        if (_pacing is { } p)
        {
            p.Sender.Schedule(p.Pacer.Due(mediaAt, audio ? p.Pacer.AudioLead : p.Pacer.Lead), send);
        }
        else
        {
            send();
        }
    }

    public ValueTask SendAudioAsync(PcmFrame frame, CancellationToken cancellationToken)
    {
        if (OnLiveKit)
        {
            return ToRoom(frame, (room, f) => room.SendAudioAsync(f, cancellationToken));
        }
        using (frame)
        {
            List<ClientConnection>? clients = null; // the joined ones (a preview gets no audio)
            lock (_clientsGate)
            {
                foreach (var c in _clients)
                {
                    if (c.Joined)
                    {
                        (clients ??= []).Add(c);
                    }
                }
            }
            if (clients is null)
            {
                return ValueTask.CompletedTask;
            }
            var samples = frame.Samples;
            var message = new byte[MediaWire.HeaderSize + samples.Length * 2];
            MediaWire.WriteAudioHeader(message, frame.Timestamp);
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples).CopyTo(message.AsSpan(MediaWire.HeaderSize));
            Send(frame.End, () =>
            {
                foreach (var client in clients)
                {
                    client.SendAudio(message);
                }
            }, audio: true);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask SendEventAsync(SessionEvent sessionEvent, CancellationToken cancellationToken)
    {
        _avatarSpeech?.OnSessionEvent(sessionEvent);
        if (sessionEvent.Type == Sessions.SessionEventTypes.Flush)
        {
            // Output after this media time is void (an interruption): pages drop what they have queued beyond it.
            Volatile.Read(ref _room)?.Flush();
            Broadcast(InCallMessages.Envelope("system", "system.flush", _spec.Conversation.Local, new JsonObject { ["after"] = Math.Round(sessionEvent.At.TotalSeconds, 3) }));
            return ValueTask.CompletedTask;
        }
        var (type, props) = InCallMessages.Describe(sessionEvent);
        var turn = _spec.NextTurnIdx + Math.Max(0, sessionEvent.TurnIdx);
        Record(type, props, turn, sessionEvent.InferenceId, sessionEvent.At);
        if (type is InCallEventTypes.ReplicaStoppedSpeaking or InCallEventTypes.ReplicaInterrupted)
        {
            RecordNewMetrics();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Assigns the next seq, sends the app message to the pages and queues the record for the grain.</summary>
    private void Record(string type, JsonObject props, int? turn, string? inferenceId, TimeSpan mediaTime)
    {
        var seq = Interlocked.Increment(ref _nextSeq) - 1;
        var at = new DateTimeOffset(Volatile.Read(ref _originTicks) + mediaTime.Ticks, TimeSpan.Zero);
        Broadcast(InCallMessages.Envelope("conversation", type, _spec.Conversation.Local, props, seq, turn, inferenceId, at, mediaTime));
        _records.Writer.TryWrite(new SessionEventRecord(seq, type, props.ToJsonString(), at, turn, inferenceId));
    }

    private void RecordNewMetrics()
    {
        foreach (var m in _session.Metrics)
        {
            var turn = _spec.NextTurnIdx + m.TurnIdx;
            bool fresh;
            lock (_metricsRecorded)
            {
                fresh = _metricsRecorded.Add(turn);
            }
            if (fresh)
            {
                Record(InCallEventTypes.TurnMetrics, InCallMessages.Metrics(m), turn, m.InferenceId, m.UserSpeechEnd);
            }
        }
    }

    private void Broadcast(byte[] json)
    {
        PostToRoom(json);
        lock (_clientsGate)
        {
            foreach (var client in _clients)
            {
                if (client.Joined)
                {
                    client.SendText(json);
                }
            }
        }
    }

    private void SendError(Action<byte[]> reply, string code, string message) =>
        reply(InCallMessages.Envelope("system", "system.error", _spec.Conversation.Local, new JsonObject { ["code"] = code, ["message"] = message }));

    // ---- recording in the conversation grain ----

    private async Task RecordLoopAsync()
    {
        var grain = _grains.GetGrain<IConversationGrain>(_spec.Conversation.ToGrainKey());
        var batch = new List<SessionEventRecord>();
        var delay = TimeSpan.FromMilliseconds(200);
        // A failed batch is kept and retried after a back-off, whether or not new events arrive meanwhile.
        while (batch.Count > 0 || await _records.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < 200 && _records.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }
            try
            {
                var result = await grain.RecordSessionEventsAsync(_workerId, batch).ConfigureAwait(false);
                if (result.Problem is { Kind: ProblemKind.NotFound or ProblemKind.Conflict })
                {
                    break; // the conversation has ended: nothing more is recorded
                }
                batch.Clear();
                delay = TimeSpan.FromMilliseconds(200);
            }
            catch (Exception e)
            {
                LogRecordFailed(_spec.Conversation.ToString(), batch.Count, e);
                if (_stop.IsCancellationRequested)
                {
                    break; // stopping and the cluster does not answer: give up (logged) rather than hang the worker's stop
                }
                try
                {
                    await Task.Delay(delay, _time, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Stopping: one last attempt, then give up.
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private async Task Presence(PresenceRole role, string identity, bool joined)
    {
        try
        {
            var grain = _grains.GetGrain<IConversationGrain>(_spec.Conversation.ToGrainKey());
            _ = joined ? await grain.JoinedAsync(role, identity).ConfigureAwait(false) : await grain.LeftAsync(role, identity).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogPresenceFailed(_spec.Conversation.ToString(), e);
        }
    }

    /// <summary>A client's receive buffer: 64 KiB, grown on demand up to <see cref="InCallMessages.MaxTextBytes"/>.</summary>
    private sealed class MessageBuffer
    {
        public byte[] Bytes = new byte[64 * 1024];
    }

    /// <summary>One whole message; one over the limit is read to its end and reported as too large (the connection stays).</summary>
    private static async Task<(ReadOnlyMemory<byte> Message, WebSocketMessageType Type, bool TooLarge)> ReceiveAsync(WebSocket socket, MessageBuffer buffer, CancellationToken ct)
    {
        var length = 0;
        var tooLarge = false;
        while (true)
        {
            if (length == buffer.Bytes.Length)
            {
                if (length >= InCallMessages.MaxTextBytes)
                {
                    tooLarge = true;
                    length = 0; // skip to the end of the message
                }
                else
                {
                    Array.Resize(ref buffer.Bytes, Math.Min(InCallMessages.MaxTextBytes, length * 2));
                }
            }
            var result = await socket.ReceiveAsync(buffer.Bytes.AsMemory(length), ct).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (ReadOnlyMemory<byte>.Empty, WebSocketMessageType.Close, false);
            }
            length += result.Count;
            if (result.EndOfMessage)
            {
                return (tooLarge ? ReadOnlyMemory<byte>.Empty : buffer.Bytes.AsMemory(0, length), result.MessageType, tooLarge);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {Conversation}: no video encoder on this worker; the page gets audio only")]
    private partial void LogNoEncoder(string conversation);

    [LoggerMessage(Level = LogLevel.Error, Message = "Conversation {Conversation}: the media clock stopped")]
    private partial void LogPacerFailed(string conversation, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {Conversation}: encoding a video frame failed")]
    private partial void LogEncodeFailed(string conversation, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {Conversation}: recording {Count} in-call events failed; retrying")]
    private partial void LogRecordFailed(string conversation, int count, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {Conversation}: reporting presence failed")]
    private partial void LogPresenceFailed(string conversation, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {Conversation}: reporting the presence of {Identity} failed")]
    private partial void LogPresenceFailed(string conversation, string identity, Exception e);

    [LoggerMessage(Level = LogLevel.Information, Message = "Conversation {Conversation}: presence of {Identity} not recorded ({Reason})")]
    private partial void LogPresenceRefused(string conversation, string identity, string reason);
}
