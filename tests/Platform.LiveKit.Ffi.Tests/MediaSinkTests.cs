using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Platform.LiveKit.Ffi.Media;
using Platform.LiveKit.Ffi.Proto;
using Platform.LiveKit.Ffi.Rooms;
using Platform.Render.Audio;
using Platform.Render.Face;
using Platform.Render.Sessions;

namespace Platform.LiveKit.Ffi.Tests;

/// <summary>A session's output to a room: real native sources and tracks, the room's requests answered as the library does.</summary>
[Collection(FfiCollection.Name)]
public sealed class MediaSinkTests
{
    [Fact]
    public async Task The_sink_publishes_microphone_and_camera_captures_frames_and_sends_events_as_interactions_json()
    {
        var library = new RecordedLibrary();
        var before = FfiHandle.Outstanding;
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
        await using (var room = await LiveKitRoom.ConnectAsync(library.Client, "wss://livekit.example.com", "worker-token", null, CancellationToken.None))
        {
            await using (var sink = await LiveKitMediaSink.PublishAsync(room, "c123", audioOnly: false, time: clock))
            {
                var published = library.Sent(r => r.PublishTrack).ToList();
                Assert.Equal([TrackSource.SourceMicrophone, TrackSource.SourceCamera], published.Select(p => p.Options.Source));
                Assert.All(published, p => Assert.Equal(library.LocalParticipantHandle, p.LocalParticipantHandle));

                var pool = new I420FramePool(1280, 720);
                for (var n = 0; n < 3; n++)
                {
                    await sink.SendAudioAsync(PcmFrame.Rent(new short[960], AudioFormat.Output48k, TimeSpan.FromMilliseconds(20 * n)), CancellationToken.None);
                    await sink.SendVideoAsync(pool.Rent(TimeSpan.FromMilliseconds(33.3 * n)), CancellationToken.None);
                }
                Assert.Equal((3, 3), (sink.AudioFramesSent, sink.VideoFramesSent));

                await sink.SendEventAsync(new SessionEvent(41, SessionEventTypes.Utterance, 3, "inf-9", TimeSpan.FromSeconds(12.5)) { Role = "replica", Text = "Hello there." },
                    CancellationToken.None);
                var (topic, data) = Assert.Single(library.PublishedData);
                Assert.Equal(LiveKitMediaSink.InteractionsTopic, topic);
                Assert.True(library.Sent(r => r.PublishData).Single().Reliable);
                using var json = JsonDocument.Parse(data);
                var root = json.RootElement;
                Assert.Equal("conversation", root.GetProperty("message_type").GetString());
                Assert.Equal("conversation.utterance", root.GetProperty("event_type").GetString());
                Assert.Equal("c123", root.GetProperty("conversation_id").GetString());
                Assert.Equal(41, root.GetProperty("seq").GetInt64());
                Assert.Equal(3, root.GetProperty("turn_idx").GetInt32());
                Assert.Equal("inf-9", root.GetProperty("inference_id").GetString());
                Assert.Equal(12.5, root.GetProperty("media_time").GetDouble());
                Assert.Equal("2026-11-27T12:00:00.000Z", root.GetProperty("timestamp").GetString());
                Assert.Equal("replica", root.GetProperty("properties").GetProperty("role").GetString());
                Assert.Equal("Hello there.", root.GetProperty("properties").GetProperty("speech").GetString());
            }
        }
        Assert.Equal(before, FfiHandle.Outstanding);
    }

    [Fact]
    public async Task An_audio_only_conversation_publishes_no_camera()
    {
        var library = new RecordedLibrary();
        await using var room = await LiveKitRoom.ConnectAsync(library.Client, "wss://livekit.example.com", "worker-token", null, CancellationToken.None);
        await using var sink = await LiveKitMediaSink.PublishAsync(room, "c124", audioOnly: true);
        Assert.Equal([TrackSource.SourceMicrophone], library.Sent(r => r.PublishTrack).Select(p => p.Options.Source));
        var pool = new I420FramePool(1280, 720);
        await sink.SendVideoAsync(pool.Rent(TimeSpan.Zero), CancellationToken.None);
        Assert.Equal(0, sink.VideoFramesSent);
    }
}
