using Platform.LiveKit.Ffi.Proto;

namespace Platform.LiveKit.Ffi.Media;

/// <summary>A local audio or video track made from a source; publish it with <see cref="Rooms.LiveKitRoom.PublishTrackAsync"/>.</summary>
public sealed class LocalTrack : IDisposable
{
    private LocalTrack(FfiHandle handle, TrackInfo info, TrackSource source)
    {
        Handle = handle;
        Info = info;
        Source = source;
    }

    public TrackInfo Info { get; }

    /// <summary>What the track is announced as (microphone for the replica's voice, camera for its face).</summary>
    public TrackSource Source { get; }

    internal FfiHandle Handle { get; }

    public static LocalTrack CreateAudio(string name, AudioSource source)
    {
        var response = FfiClient.Instance.Request(new FfiRequest
        {
            CreateAudioTrack = new CreateAudioTrackRequest { Name = name, SourceHandle = source.Handle.Id },
        });
        var track = response.CreateAudioTrack.Track;
        return new LocalTrack(FfiHandle.From(track.Handle), track.Info, TrackSource.SourceMicrophone);
    }

    public static LocalTrack CreateVideo(string name, VideoSource source)
    {
        var response = FfiClient.Instance.Request(new FfiRequest
        {
            CreateVideoTrack = new CreateVideoTrackRequest { Name = name, SourceHandle = source.Handle.Id },
        });
        var track = response.CreateVideoTrack.Track;
        return new LocalTrack(FfiHandle.From(track.Handle), track.Info, TrackSource.SourceCamera);
    }

    public void Dispose() => Handle.Dispose();
}
