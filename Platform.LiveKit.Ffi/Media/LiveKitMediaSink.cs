using Platform.LiveKit.Ffi.Rooms;
using Platform.Render.Audio;
using Platform.Render.Face;
using Platform.Render.Sessions;

namespace Platform.LiveKit.Ffi.Media;

/// <summary>
/// A session's output published to a LiveKit room: the replica's voice as a microphone track (48 kHz mono), its face as
/// a camera track (I420, 720p30 by default; none when audio-only) and its app events as reliable data packets on
/// <see cref="InteractionsTopic"/>, in the interactions protocol's JSON (docs/media-protocol.md).
/// </summary>
public sealed class LiveKitMediaSink : IMediaOutput, IAsyncDisposable
{
    /// <summary>The data topic carrying the interactions protocol, both ways.</summary>
    public const string InteractionsTopic = "interactions";

    private readonly LiveKitRoom room;
    private readonly AudioSource audio;
    private readonly VideoSource? video;
    private readonly LocalTrack microphone;
    private readonly LocalTrack? camera;

    private LiveKitMediaSink(LiveKitRoom room, AudioSource audio, VideoSource? video, LocalTrack microphone, LocalTrack? camera)
    {
        this.room = room;
        this.audio = audio;
        this.video = video;
        this.microphone = microphone;
        this.camera = camera;
    }

    public long VideoFramesSent { get; private set; }

    public long AudioFramesSent { get; private set; }

    /// <summary>Creates the sources and tracks and publishes them to <paramref name="room"/>.</summary>
    public static async Task<LiveKitMediaSink> PublishAsync(LiveKitRoom room, bool audioOnly,
        int width = 1280, int height = 720, CancellationToken cancellationToken = default)
    {
        var audio = new AudioSource(AudioFormat.Output48k.SampleRate, 1);
        VideoSource? video = null;
        LocalTrack? microphone = null;
        LocalTrack? camera = null;
        try
        {
            microphone = LocalTrack.CreateAudio("replica-audio", audio);
            await room.PublishTrackAsync(microphone, cancellationToken).ConfigureAwait(false);
            if (!audioOnly)
            {
                video = new VideoSource(width, height);
                camera = LocalTrack.CreateVideo("replica-video", video);
                await room.PublishTrackAsync(camera, cancellationToken).ConfigureAwait(false);
            }
            return new LiveKitMediaSink(room, audio, video, microphone, camera);
        }
        catch
        {
            camera?.Dispose();
            video?.Dispose();
            microphone?.Dispose();
            audio.Dispose();
            throw;
        }
    }

    public ValueTask SendVideoAsync(I420Frame frame, CancellationToken cancellationToken)
    {
        using (frame)
        {
            if (video is not null)
            {
                video.Capture(frame);
                VideoFramesSent++;
            }
        }
        return ValueTask.CompletedTask;
    }

    public async ValueTask SendAudioAsync(PcmFrame frame, CancellationToken cancellationToken)
    {
        using (frame)
        {
            await audio.CaptureAsync(frame, cancellationToken).ConfigureAwait(false);
            AudioFramesSent++;
        }
    }

    /// <summary>Drops queued audio (an interruption), so the replica stops at once rather than after the queue.</summary>
    public void Flush() => audio.ClearQueue();

    public ValueTask DisposeAsync()
    {
        camera?.Dispose();
        video?.Dispose();
        microphone.Dispose();
        audio.Dispose();
        return ValueTask.CompletedTask;
    }
}
