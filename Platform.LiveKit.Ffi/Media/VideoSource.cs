using Platform.LiveKit.Ffi.Proto;
using Platform.Render.Face;

namespace Platform.LiveKit.Ffi.Media;

/// <summary>A native video source fed with I420 frames (the compositor's output, 720p30 by default).</summary>
public sealed class VideoSource : IDisposable
{
    private readonly FfiClient client;

    public VideoSource(int width = 1280, int height = 720)
    {
        client = FfiClient.Instance;
        Width = width;
        Height = height;
        var response = client.Request(new FfiRequest
        {
            NewVideoSource = new NewVideoSourceRequest
            {
                Type = VideoSourceType.VideoSourceNative,
                Resolution = new VideoSourceResolution { Width = (uint)width, Height = (uint)height },
                IsScreencast = false,
            },
        });
        Handle = FfiHandle.From(response.NewVideoSource.Source.Handle);
    }

    public int Width { get; }

    public int Height { get; }

    internal FfiHandle Handle { get; }

    /// <summary>Captures one frame (the library copies it before returning); its media time becomes the RTP timestamp base.</summary>
    public unsafe void Capture(I420Frame frame)
    {
        ObjectDisposedException.ThrowIf(Handle.IsClosed, this);
        var w = frame.Width;
        var h = frame.Height;
        var ySize = w * h;
        var cSize = w / 2 * (h / 2);
        fixed (byte* data = frame.Data)
        {
            var start = (ulong)data;
            client.Request(new FfiRequest
            {
                CaptureVideoFrame = new CaptureVideoFrameRequest
                {
                    SourceHandle = Handle.Id,
                    TimestampUs = (long)(frame.Timestamp.Ticks / TimeSpan.TicksPerMicrosecond),
                    Rotation = VideoRotation._0,
                    Buffer = new VideoBufferInfo
                    {
                        Type = VideoBufferType.I420,
                        Width = (uint)w,
                        Height = (uint)h,
                        DataPtr = start,
                        Stride = (uint)w,
                        Components =
                        {
                            new VideoBufferInfo.Types.ComponentInfo { DataPtr = start, Stride = (uint)w, Size = (uint)ySize },
                            new VideoBufferInfo.Types.ComponentInfo { DataPtr = start + (ulong)ySize, Stride = (uint)(w / 2), Size = (uint)cSize },
                            new VideoBufferInfo.Types.ComponentInfo { DataPtr = start + (ulong)(ySize + cSize), Stride = (uint)(w / 2), Size = (uint)cSize },
                        },
                    },
                },
            });
        }
    }

    public void Dispose() => Handle.Dispose();
}
