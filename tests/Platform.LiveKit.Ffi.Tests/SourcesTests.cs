using Platform.LiveKit.Ffi.Media;
using Platform.LiveKit.Ffi.Proto;
using Platform.Render.Audio;
using Platform.Render.Face;

namespace Platform.LiveKit.Ffi.Tests;

[Collection(FfiCollection.Name)]
public sealed class SourcesTests
{
    [Fact]
    public async Task Audio_and_video_sources_make_tracks_and_take_frames()
    {
        var before = FfiHandle.Outstanding;
        using (var audio = new AudioSource())
        using (var video = new VideoSource(1280, 720))
        using (var mic = LocalTrack.CreateAudio("replica-audio", audio))
        using (var cam = LocalTrack.CreateVideo("replica-video", video))
        {
            Assert.Equal(TrackKind.KindAudio, mic.Info.Kind);
            Assert.Equal(TrackKind.KindVideo, cam.Info.Kind);
            Assert.False(mic.Info.Remote);
            Assert.Equal(before + 4, FfiHandle.Outstanding);

            var tone = new short[960];
            for (var i = 0; i < tone.Length; i++) tone[i] = (short)(8000 * Math.Sin(2 * Math.PI * 440 * i / 48_000.0));
            for (var n = 0; n < 5; n++)
            {
                using var frame = PcmFrame.Rent(tone, AudioFormat.Output48k, TimeSpan.FromMilliseconds(20 * n));
                await audio.CaptureAsync(frame);
            }

            var pool = new I420FramePool(1280, 720);
            for (var n = 0; n < 3; n++)
            {
                using var frame = pool.Rent(TimeSpan.FromMilliseconds(n * 1000 / 30.0));
                frame.Y.Fill(128);
                frame.U.Fill(128);
                frame.V.Fill(128);
                video.Capture(frame);
            }
        }
        Assert.Equal(before, FfiHandle.Outstanding);
        Assert.Equal(0, FfiClient.Instance.PendingRequests);
    }

    [Fact]
    public async Task A_frame_in_the_wrong_format_is_refused()
    {
        using var audio = new AudioSource();
        using var frame = PcmFrame.Rent(new short[320], new AudioFormat(16_000, 1), TimeSpan.Zero);
        await Assert.ThrowsAsync<ArgumentException>(() => audio.CaptureAsync(frame));
    }
}

[CollectionDefinition(Name)]
public sealed class FfiCollection
{
    // One collection: the handle counter is process-wide, so FFI tests run one after another.
    public const string Name = "LiveKit FFI";
}
