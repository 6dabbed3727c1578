using System.Buffers.Binary;
using System.Diagnostics;
using Platform.Render.Audio;
using Platform.Render.Video;

namespace Platform.Bench.Engine;

/// <summary>
/// Keeps one session's output as it would reach a viewer — the VP8 frames (in an IVF file) and the 48 kHz audio —
/// and afterwards has a separate <c>ffmpeg</c> process (never linked: its x264 is GPL) make an MP4 for a person to watch.
/// Recording costs the measured run only a file write per frame; the transcode runs after the clock stops.
/// </summary>
internal sealed class Recording : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-bench-").FullName;
    private readonly FileStream _ivf;
    private readonly List<short> _audio = [];
    private readonly byte[] _header = new byte[32];
    private int _frames;

    public Recording(int width, int height)
    {
        _ivf = new FileStream(Path.Combine(_dir, "video.ivf"), FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        // IVF: "DKIF", version 0, header length 32, FourCC VP80, size, time base 1/1000 (frame stamps in ms), frame count.
        "DKIF"u8.CopyTo(_header);
        BinaryPrimitives.WriteUInt16LittleEndian(_header.AsSpan(6), 32);
        "VP80"u8.CopyTo(_header.AsSpan(8));
        BinaryPrimitives.WriteUInt16LittleEndian(_header.AsSpan(12), (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(_header.AsSpan(14), (ushort)height);
        BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(16), 1000);
        BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(20), 1);
        _ivf.Write(_header);
    }

    public void AddVideo(EncodedVideoFrame frame)
    {
        Span<byte> h = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)frame.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(h[4..], (ulong)(long)frame.Timestamp.TotalMilliseconds);
        _ivf.Write(h);
        _ivf.Write(frame.Data.Span);
        _frames++;
    }

    public void AddAudio(PcmFrame frame) => _audio.AddRange(frame.Samples);

    public async Task<string> WriteMp4Async(string path)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(24), (uint)_frames);
        _ivf.Position = 0;
        _ivf.Write(_header);
        await _ivf.FlushAsync();
        var wav = Path.Combine(_dir, "audio.wav");
        await File.WriteAllBytesAsync(wav, Wav.Encode(_audio.ToArray(), AudioFormat.Output48k));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string? error = null;
        foreach (var codec in new[] { "libx264 -preset veryfast -pix_fmt yuv420p", "mpeg4 -q:v 3" })
        {
            error = await RunFfmpegAsync($"-y -loglevel error -i {Quote(_ivf.Name)} -i {Quote(wav)} -c:v {codec} -c:a aac -b:a 128k -movflags +faststart {Quote(path)}");
            if (error is null)
            {
                return $"mp4: {path} ({_frames} frames, {new FileInfo(path).Length / 1024} KiB, video {codec.Split(' ')[0]} transcoded from the VP8 stream + AAC audio)";
            }
        }

        return $"mp4: ffmpeg failed: {error}";
    }

    private static async Task<string?> RunFfmpegAsync(string arguments)
    {
        try
        {
            using var ffmpeg = Process.Start(new ProcessStartInfo("ffmpeg", arguments) { RedirectStandardError = true, UseShellExecute = false })!;
            var stderr = await ffmpeg.StandardError.ReadToEndAsync();
            await ffmpeg.WaitForExitAsync();
            return ffmpeg.ExitCode == 0 ? null : stderr.Trim();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"ffmpeg is not installed ({ex.Message}); run infra/install.d/25-video.sh";
        }
    }

    private static string Quote(string s) => "\"" + s.Replace("\"", "\\\"") + "\"";

    public void Dispose()
    {
        _ivf.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
