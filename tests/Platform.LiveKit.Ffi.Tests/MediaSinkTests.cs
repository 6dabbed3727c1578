using Platform.LiveKit.Ffi.Media;
using Platform.LiveKit.Ffi.Proto;
using Platform.LiveKit.Ffi.Rooms;
using Platform.Render.Audio;
using Platform.Render.Face;

namespace Platform.LiveKit.Ffi.Tests;

/// <summary>A session's output to a room: real native sources and tracks, the room's requests answered as the library does.</summary>
[Collection(FfiCollection.Name)]
public sealed class MediaSinkTests
{
    [Fact]
    public async Task The_sink_publishes_microphone_and_camera_and_captures_frames()
    {
        var library = new RecordedLibrary();
        var before = FfiHandle.Outstanding;
        await using (var room = await LiveKitRoom.ConnectAsync(library.Client, "wss://livekit.example.com", "worker-token", null, CancellationToken.None))
        {
            await using (var sink = await LiveKitMediaSink.PublishAsync(room, audioOnly: false))
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
            }
        }
        Assert.Equal(before, FfiHandle.Outstanding);
    }

    [Fact]
    public async Task An_audio_only_conversation_publishes_no_camera()
    {
        var library = new RecordedLibrary();
        await using var room = await LiveKitRoom.ConnectAsync(library.Client, "wss://livekit.example.com", "worker-token", null, CancellationToken.None);
        await using var sink = await LiveKitMediaSink.PublishAsync(room, audioOnly: true);
        Assert.Equal([TrackSource.SourceMicrophone], library.Sent(r => r.PublishTrack).Select(p => p.Options.Source));
        var pool = new I420FramePool(1280, 720);
        await sink.SendVideoAsync(pool.Rent(TimeSpan.Zero), CancellationToken.None);
        Assert.Equal(0, sink.VideoFramesSent);
    }
}
