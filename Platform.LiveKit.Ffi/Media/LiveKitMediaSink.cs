using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
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
public sealed class LiveKitMediaSink : IMediaSink, IAsyncDisposable
{
    /// <summary>The data topic carrying the interactions protocol, both ways.</summary>
    public const string InteractionsTopic = "interactions";

    private readonly LiveKitRoom room;
    private readonly string conversationId;
    private readonly TimeProvider time;
    private readonly AudioSource audio;
    private readonly VideoSource? video;
    private readonly LocalTrack microphone;
    private readonly LocalTrack? camera;

    private LiveKitMediaSink(LiveKitRoom room, string conversationId, TimeProvider time, AudioSource audio, VideoSource? video, LocalTrack microphone, LocalTrack? camera)
    {
        this.room = room;
        this.conversationId = conversationId;
        this.time = time;
        this.audio = audio;
        this.video = video;
        this.microphone = microphone;
        this.camera = camera;
    }

    public long VideoFramesSent { get; private set; }

    public long AudioFramesSent { get; private set; }

    /// <summary>Creates the sources and tracks and publishes them to <paramref name="room"/>.</summary>
    public static async Task<LiveKitMediaSink> PublishAsync(LiveKitRoom room, string conversationId, bool audioOnly,
        int width = 1280, int height = 720, TimeProvider? time = null, CancellationToken cancellationToken = default)
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
            return new LiveKitMediaSink(room, conversationId, time ?? TimeProvider.System, audio, video, microphone, camera);
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

    public async ValueTask SendEventAsync(SessionEvent sessionEvent, CancellationToken cancellationToken)
    {
        var json = InteractionsMessage(sessionEvent, conversationId, time.GetUtcNow());
        await room.PublishDataAsync(JsonSerializer.SerializeToUtf8Bytes(json), InteractionsTopic, reliable: true, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops queued audio (an interruption), so the replica stops at once rather than after the queue.</summary>
    public void Flush() => audio.ClearQueue();

    /// <summary>The interactions-protocol message for a session event (docs/media-protocol.md, "Out").</summary>
    public static JsonObject InteractionsMessage(SessionEvent e, string conversationId, DateTimeOffset now)
    {
        var properties = new JsonObject();
        switch (e.Type)
        {
            case SessionEventTypes.Utterance:
                properties["role"] = e.Role;
                properties["speech"] = e.Text;
                break;
            case SessionEventTypes.ReplicaStoppedSpeaking:
                properties["duration"] = e.Duration?.TotalSeconds;
                break;
            case SessionEventTypes.ReplicaInterrupted:
                properties["duration"] = e.Duration?.TotalSeconds;
                properties["speech"] = e.Text;
                break;
            case SessionEventTypes.ToolCall:
                properties["tool_call_id"] = e.ToolCallId;
                properties["name"] = e.ToolName;
                properties["arguments"] = e.Arguments;
                break;
            case SessionEventTypes.Error:
                properties["code"] = e.ErrorCode;
                properties["message"] = e.Text;
                break;
        }
        if (e.Model is not null) properties["model"] = e.Model;
        return new JsonObject
        {
            ["message_type"] = "conversation",
            ["event_type"] = "conversation." + e.Type,
            ["conversation_id"] = conversationId,
            ["seq"] = e.Seq,
            ["turn_idx"] = e.TurnIdx,
            ["inference_id"] = e.InferenceId,
            ["timestamp"] = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            ["media_time"] = Math.Round(e.At.TotalSeconds, 3),
            ["properties"] = properties,
        };
    }

    public ValueTask DisposeAsync()
    {
        camera?.Dispose();
        video?.Dispose();
        microphone.Dispose();
        audio.Dispose();
        return ValueTask.CompletedTask;
    }
}
