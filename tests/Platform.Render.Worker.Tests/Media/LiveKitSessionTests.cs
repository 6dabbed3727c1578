using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.LiveKit.Ffi.Conversations;
using Platform.LiveKit.Tokens;
using Platform.Render.Audio;
using Platform.Render.Face;
using Platform.Render.Worker.Media;
using Platform.Testing;
using Platform.Testing.LiveKit;
using Platform.Testing.OpenAi;

namespace Platform.Render.Worker.Tests.Media;

/// <summary>
/// A conversation on LiveKit, on a real cluster (its room created on a loopback LiveKit stand-in) and the production
/// runner and engine: the worker joins with its own token, and the session runs its media and the interactions
/// protocol through the room. No LiveKit server can run here: the join itself is checked against the stand-in's
/// signalling endpoint with LiveKit's native library, the session's traffic through a recording room link.
/// </summary>
public sealed class LiveKitSessionTests
{
    [Fact]
    public async Task The_worker_joins_its_room_with_an_agent_token_for_the_end_user_and_retries_a_refused_join_until_the_call_ends()
    {
        await using var liveKit = await FakeLiveKitServer.StartAsync();
        await using var kit = await MediaTestKit.StartAsync(liveKit);
        var worker = await kit.StartWorkerAsync("w1"); // LiveKit's native library
        var conversation = await kit.ConversationAsync(greeting: null);
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(600));
        var session = Assert.Single(worker.Sessions);
        Assert.True(session.OnLiveKit);
        var transport = worker.Runner.FindRoom(conversation);
        Assert.NotNull(transport);

        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(transport.LastError is not null), MediaTestKit.Wait, "the first join refused");
        // The library's join (and its follow-up validation request), each with the worker's token.
        Assert.All(liveKit.Signals, s => Assert.NotNull(s.Grants));
        var signal = liveKit.Signals.First();
        Assert.StartsWith("/rtc", signal.Path, StringComparison.Ordinal);
        var grants = signal.Grants!;
        Assert.Equal("worker-w1", grants.Identity);
        Assert.Equal(TokenKinds.Agent, grants.Kind);
        Assert.Equal(LiveKitRooms.RoomName(conversation), grants.Video!.Room);
        Assert.Equal(LiveKitRooms.EndUserIdentity(conversation), grants.Attributes![AgentAttributes.PublishOnBehalf]);
        Assert.False(transport.Joined);
        Assert.Equal(1, transport.Attempts);

        // The session runs meanwhile, and the next attempt comes after the back-off (on the session's clock) with the token asked for again.
        var firstAttempt = liveKit.Signals.Count;
        var advanced = TimeSpan.Zero;
        while (transport.Attempts < 2 && advanced < TimeSpan.FromSeconds(5))
        {
            await kit.AdvanceAsync(TimeSpan.FromMilliseconds(100));
            advanced += TimeSpan.FromMilliseconds(100);
        }
        Assert.True(advanced >= LiveKitRoomTransport.JoinBackoff[0], $"retried after only {advanced}");
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(liveKit.Signals.Count > firstAttempt), MediaTestKit.Wait, "a second join");
        Assert.All(liveKit.Signals, s => Assert.Equal("worker-w1", s.Grants!.Identity));

        // The call ends: the worker stops the session and stops trying.
        var grain = kit.Grains.GetGrain<IConversationGrain>(conversation.ToGrainKey());
        Assert.True((await grain.EndAsync(ShutdownReasons.EndEndpoint)).IsOk);
        await kit.AdvanceAsync(TimeSpan.FromSeconds(1));
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(!worker.Sessions.Any() && worker.Runner.FindRoom(conversation) is null), MediaTestKit.Wait, "the session stopped");
        var seen = liveKit.Signals.Count;
        await kit.AdvanceAsync(TimeSpan.FromSeconds(3));
        Assert.Equal(seen, liveKit.Signals.Count);
    }

    [Fact]
    public async Task On_LiveKit_the_session_hears_the_rooms_microphone_answers_into_the_room_and_speaks_the_protocol_over_data()
    {
        await using var liveKit = await FakeLiveKitServer.StartAsync();
        await using var kit = await MediaTestKit.StartAsync(liveKit);
        kit.Llm.Responder = _ => ChatScript.Reply("The weather is sunny today.");
        var rooms = new RecordingRooms();
        var worker = await kit.StartWorkerAsync("w1", rooms.ConnectAsync);
        var conversation = await kit.ConversationAsync("Hello, I am here.");
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(600));
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(rooms.All.Count == 1 && worker.Runner.FindRoom(conversation)?.Joined == true), MediaTestKit.Wait, "the room joined");
        var room = rooms.All.Single();

        // Joined where the conversation says, as the worker, with the session's video size.
        Assert.Equal(liveKit.Url, room.Options.Url);
        Assert.Equal(conversation.Local, room.Options.ConversationId);
        Assert.Equal((320, 180, false), (room.Options.Width, room.Options.Height, room.Options.AudioOnly));
        var verifier = new LiveKitTokenVerifier(FakeLiveKitServer.Options(liveKit.Url), kit.Cluster.Time);
        Assert.Equal("worker-w1", verifier.Verify(await room.Options.Token(CancellationToken.None)).Grants.Identity);
        Assert.Equal("worker-w1", verifier.Verify(await room.Options.Token(CancellationToken.None)).Grants.Identity); // a rejoin's, fetched anew

        // Nobody there yet: frames are made but nothing is spoken.
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(400));
        Assert.True(room.VideoFrames > 0, "video frames go to the room");
        Assert.Equal((320, 180), room.VideoSize);
        Assert.Equal(0, room.AudioEnergy);

        // The page says hello over data: system.ready comes back and the greeting is spoken into the room.
        var user = LiveKitRooms.EndUserIdentity(conversation);
        await room.SendAsync(user, """{"message_type":"system","event_type":"system.hello","properties":{"sample_rate":16000}}""");
        var ready = Assert.Single(room.Events("system.ready"))["properties"]!;
        Assert.True(ready["video"]!.GetValue<bool>());
        await kit.AdvanceAsync(TimeSpan.FromSeconds(3));
        await room.WaitForAsync(r => r.Events("conversation.utterance").Any(), "the greeting");
        Assert.Equal("Hello, I am here.", room.Events("conversation.utterance").First()["properties"]!["speech"]!.GetValue<string>());
        Assert.True(room.AudioEnergy > 0, "the greeting's audio went to the room");

        // The user speaks on the room's microphone track (20 ms frames); a second participant's microphone is not mixed in.
        var speech = MediaTestKit.Speech("what is the weather like today");
        var noise = MediaTestKit.Speech("please tell me a long story about dragons", "awb");
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(20 * (speech.Length / 320 + 1)) + TimeSpan.FromSeconds(4), async i =>
        {
            if (i * 320 < speech.Length)
            {
                await room.Handler.OnMicrophoneAsync(user, Frame(speech, i), CancellationToken.None);
                if (i * 320 < noise.Length)
                {
                    await room.Handler.OnMicrophoneAsync("user-someone-else", Frame(noise, i), CancellationToken.None);
                }
            }
        });
        await room.WaitForAsync(r => r.Events("conversation.utterance").Count() >= 3, "the user's utterance and the answer");
        var utterances = room.Events("conversation.utterance").Select(u => (Role: u["properties"]!["role"]!.GetValue<string>(), Text: u["properties"]!["speech"]!.GetValue<string>())).ToList();
        Assert.Equal("user", utterances[1].Role);
        Assert.Contains("today", utterances[1].Text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("dragon", utterances[1].Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(("replica", "The weather is sunny today."), utterances[2]);
        var seqs = room.Messages.Where(m => m["message_type"]!.GetValue<string>() == "conversation").Select(m => m["seq"]!.GetValue<long>()).ToList();
        Assert.Equal(seqs.OrderBy(s => s).Distinct(), seqs);

        // Malformed and unsupported messages get errors over data; the protocol's commands work as on the embedded transport.
        await room.SendAsync(user, "{not json");
        await room.SendAsync(user, """{"message_type":"conversation","event_type":"conversation.tool_result","properties":{"tool_call_id":"nope","content":"x"}}""");
        Assert.Equal(["message.malformed", "tool_result.unknown"], room.Events("system.error").Select(e => e["properties"]!["code"]!.GetValue<string>()));
        await room.SendAsync(user, """{"message_type":"conversation","event_type":"conversation.echo","properties":{"text":"Echo through the room."}}""");
        await kit.AdvanceAsync(TimeSpan.FromSeconds(3));
        await room.WaitForAsync(r => r.Events("conversation.utterance").Any(u => u["properties"]!["speech"]!.GetValue<string>() == "Echo through the room."), "the echo");

        // Presence is LiveKit's to report (webhooks): the worker reported none itself, and the transcript is recorded as ever.
        var grain = kit.Grains.GetGrain<IConversationGrain>(conversation.ToGrainKey());
        await PlatformCluster.WaitUntilAsync(async () => (await grain.GetAsync(true))!.Transcript!.Count >= 3, MediaTestKit.Wait, "the transcript");
        var info = (await grain.GetAsync(true))!;
        Assert.DoesNotContain(info.Events!, e => e.EventType is "system.replica_joined" or "system.participant_joined");

        // The call ends: the room hears why, then the worker leaves it.
        Assert.True((await grain.EndAsync(ShutdownReasons.EndEndpoint)).IsOk);
        await kit.AdvanceAsync(TimeSpan.FromSeconds(1));
        await room.WaitForAsync(r => r.Disposed, "the room left");
        Assert.Equal(ShutdownReasons.EndEndpoint, Assert.Single(room.Events("system.ended"))["properties"]!["shutdown_reason"]!.GetValue<string>());
    }

    private static PcmFrame Frame(short[] audio, int tick) =>
        PcmFrame.Rent(audio.AsSpan(tick * 320, Math.Min(320, audio.Length - tick * 320)), AudioFormat.Speech16k, TimeSpan.FromMilliseconds(20 * tick));

    /// <summary>The rooms a worker joined, each recording what the session sent it.</summary>
    private sealed class RecordingRooms
    {
        public ConcurrentQueue<RecordingRoom> Rooms { get; } = new();

        public IReadOnlyList<RecordingRoom> All => [.. Rooms];

        public Task<ILiveKitRoomLink> ConnectAsync(LiveKitLinkOptions options, ILiveKitConversationHandler handler, TimeProvider time, CancellationToken cancellationToken)
        {
            var room = new RecordingRoom(options, handler);
            Rooms.Enqueue(room);
            return Task.FromResult<ILiveKitRoomLink>(room);
        }
    }

    private sealed class RecordingRoom(LiveKitLinkOptions options, ILiveKitConversationHandler handler) : ILiveKitRoomLink
    {
        private readonly ConcurrentQueue<JsonObject> _messages = new();
        private int _videoFrames;
        private double _audioEnergy;

        public LiveKitLinkOptions Options => options;

        public ILiveKitConversationHandler Handler => handler;

        public int VideoFrames => Volatile.Read(ref _videoFrames);

        public (int Width, int Height) VideoSize { get; private set; }

        public double AudioEnergy => Volatile.Read(ref _audioEnergy);

        public int Flushes;

        public bool Disposed { get; private set; }

        public IReadOnlyList<JsonObject> Messages => [.. _messages];

        public IEnumerable<JsonObject> Events(string type) => Messages.Where(m => m["event_type"]?.GetValue<string>() == type);

        public ValueTask SendAsync(string participant, string json) =>
            handler.OnMessageAsync(participant, Encoding.UTF8.GetBytes(json), CancellationToken.None);

        public Task WaitForAsync(Func<RecordingRoom, bool> condition, string what) =>
            PlatformCluster.WaitUntilAsync(() => Task.FromResult(condition(this)), MediaTestKit.Wait, what);

        public ValueTask SendVideoAsync(I420Frame frame, CancellationToken cancellationToken)
        {
            using (frame)
            {
                VideoSize = (frame.Width, frame.Height);
                Interlocked.Increment(ref _videoFrames);
            }
            return ValueTask.CompletedTask;
        }

        public ValueTask SendAudioAsync(PcmFrame frame, CancellationToken cancellationToken)
        {
            using (frame)
            {
                double sum = 0;
                foreach (var s in frame.Samples)
                {
                    sum += (double)s * s;
                }
                _audioEnergy += sum / Math.Max(1, frame.Length);
            }
            return ValueTask.CompletedTask;
        }

        public void Post(ReadOnlyMemory<byte> json) => _messages.Enqueue((JsonObject)JsonNode.Parse(json.Span)!);

        public void Flush() => Interlocked.Increment(ref Flushes);

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
