using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Platform.LiveKit.Ffi.Conversations;
using Platform.LiveKit.Ffi.Media;
using Platform.LiveKit.Ffi.Proto;
using Platform.Render.Audio;

namespace Platform.LiveKit.Ffi.Tests;

/// <summary>A conversation's link to its room: users' microphones and messages in, rejoining after the room is lost, leaving cleanly.</summary>
[Collection(FfiCollection.Name)]
public sealed class ConversationLinkTests
{
    [Fact]
    public async Task The_link_rejoins_with_a_fresh_token_after_losing_the_room_and_leaves_cleanly()
    {
        var library = new RecordedLibrary();
        var before = FfiHandle.Outstanding;
        var clock = new FakeTimeProvider();
        var handler = new Handler();
        var tokens = 0;
        var options = new LiveKitLinkOptions
        {
            Url = "wss://livekit.example.com",
            ConversationId = "c9",
            AudioOnly = true,
            Token = _ => ValueTask.FromResult($"token-{Interlocked.Increment(ref tokens)}"),
        };
        var link = await LiveKitConversationLink.StartAsync(library.Client, options, handler, clock, CancellationToken.None);
        Assert.True(link.IsConnected);
        Assert.Equal("token-1", Assert.Single(library.Sent(r => r.Connect)).Token);

        library.EmitRoomEvent(new RoomEvent
        {
            ParticipantConnected = new ParticipantConnected
            {
                Info = new OwnedParticipant { Handle = new FfiOwnedHandle { Id = library.NextHandle() }, Info = new ParticipantInfo { Identity = "user-1", Kind = ParticipantKind.Standard } },
            },
        });
        await Eventually.WaitAsync(() => library.Sent(r => r.AudioStreamFromParticipant).Any(), "the user's microphone is opened");
        Assert.Equal(16_000u, library.Sent(r => r.AudioStreamFromParticipant).Single().SampleRate);

        var message = Encoding.UTF8.GetBytes("""{"message_type":"conversation","event_type":"conversation.interrupt","conversation_id":"c9"}""");
        EmitData(library, "user-1", message);
        await Eventually.WaitAsync(() => handler.Messages.Count == 1, "the interactions message reaches the handler");
        Assert.Equal("user-1", handler.Messages.Single().Identity);
        Assert.Equal(message, handler.Messages.Single().Json);

        // What the session posts goes to the room on the interactions topic, reliably, in the order posted.
        var posted = Enumerable.Range(0, 3).Select(n => Encoding.UTF8.GetBytes($$"""{"message_type":"conversation","event_type":"conversation.utterance","seq":{{n}}}""")).ToList();
        foreach (var json in posted) link.Post(json);
        await Eventually.WaitAsync(() => library.PublishedData.Count == 3, "the posted messages are published");
        Assert.Equal(posted, library.PublishedData.Select(d => d.Data));
        Assert.All(library.PublishedData, d => Assert.Equal(LiveKitMediaSink.InteractionsTopic, d.Topic));
        Assert.All(library.Sent(r => r.PublishData), r => Assert.True(r.Reliable));

        // The server drops us for good (the library's own resume failed): the link rejoins after its first back-off.
        library.EmitRoomEvent(new RoomEvent { Disconnected = new Disconnected { Reason = DisconnectReason.SignalClose } });
        await Eventually.WaitAsync(() => !link.IsConnected, "the link notices the room is gone");
        await link.SendAudioAsync(PcmFrame.Rent(new short[960], AudioFormat.Output48k, TimeSpan.Zero), CancellationToken.None);
        Assert.Equal(1, link.DroppedFrames);
        await Eventually.WaitAsync(() =>
        {
            clock.Advance(TimeSpan.FromMilliseconds(100));
            return link.Joins == 2 && link.IsConnected;
        }, "the link rejoins");
        Assert.Equal(["token-1", "token-2"], library.Sent(r => r.Connect).Select(c => c.Token));
        Assert.Equal(2, library.Sent(r => r.PublishTrack).Count());

        await link.DisposeAsync();
        Assert.Single(library.Sent(r => r.Disconnect));
        Assert.Equal(before, FfiHandle.Outstanding);
    }

    [Fact]
    public async Task A_room_deleted_by_the_server_ends_the_link_without_rejoining()
    {
        var library = new RecordedLibrary();
        var clock = new FakeTimeProvider();
        var options = new LiveKitLinkOptions { Url = "wss://livekit.example.com", ConversationId = "c10", AudioOnly = true, Token = _ => ValueTask.FromResult("t") };
        await using var link = await LiveKitConversationLink.StartAsync(library.Client, options, new Handler(), clock, CancellationToken.None);
        library.EmitRoomEvent(new RoomEvent { Disconnected = new Disconnected { Reason = DisconnectReason.RoomDeleted } });
        await Eventually.WaitAsync(() => !link.IsConnected, "the link notices the room is gone");
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Single(library.Sent(r => r.Connect));
        Assert.Equal(1, link.Joins);
    }

    private static void EmitData(RecordedLibrary library, string from, byte[] data)
    {
        unsafe
        {
            fixed (byte* p = data)
            {
                library.EmitRoomEvent(new RoomEvent
                {
                    DataPacketReceived = new DataPacketReceived
                    {
                        Kind = DataPacketKind.KindReliable,
                        ParticipantIdentity = from,
                        User = new UserPacket
                        {
                            Topic = LiveKitMediaSink.InteractionsTopic,
                            Data = new OwnedBuffer { Handle = new FfiOwnedHandle { Id = library.NextHandle() }, Data = new BufferInfo { DataPtr = (ulong)p, DataLen = (ulong)data.Length } },
                        },
                    },
                });
            }
        }
    }

    private sealed class Handler : ILiveKitConversationHandler
    {
        public ConcurrentQueue<(string Identity, byte[] Json)> Messages { get; } = new();

        public ValueTask OnMicrophoneAsync(string participantIdentity, PcmFrame frame, CancellationToken cancellationToken)
        {
            frame.Dispose();
            return ValueTask.CompletedTask;
        }

        public ValueTask OnMessageAsync(string participantIdentity, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
        {
            Messages.Enqueue((participantIdentity, json.ToArray()));
            return ValueTask.CompletedTask;
        }
    }
}
