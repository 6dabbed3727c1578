using System.Buffers.Binary;

namespace Platform.Render.Worker.Media;

/// <summary>The binary messages of the embedded transport (docs/media-protocol.md): a 16-byte header, then the payload.</summary>
public static class MediaWire
{
    public const int HeaderSize = 16;
    public const byte Video = 0x01;
    public const byte Audio = 0x02;
    public const byte Microphone = 0x03;

    /// <summary>The most microphone audio one message may carry (1 s at 48 kHz stereo).</summary>
    public const int MaxMicrophonePayload = 48_000 * 2 * 2;

    public static void WriteVideoHeader(Span<byte> header, bool keyframe, int width, int height, TimeSpan mediaTime)
    {
        header[..HeaderSize].Clear();
        header[0] = Video;
        header[1] = keyframe ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], checked((ushort)width));
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], checked((ushort)height));
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], Micros(mediaTime));
    }

    public static void WriteAudioHeader(Span<byte> header, TimeSpan mediaTime)
    {
        header[..HeaderSize].Clear();
        header[0] = Audio;
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], Micros(mediaTime));
    }

    public static void WriteMicrophoneHeader(Span<byte> header, int sampleRate, int channels)
    {
        header[..HeaderSize].Clear();
        header[0] = Microphone;
        header[1] = checked((byte)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], checked((uint)sampleRate));
    }

    /// <summary>Reads a microphone message; null with the reason when it is not one we accept.</summary>
    public static string? TryReadMicrophone(ReadOnlySpan<byte> message, out int sampleRate, out int channels, out ReadOnlySpan<byte> pcm)
    {
        sampleRate = 0;
        channels = 0;
        pcm = default;
        if (message.Length < HeaderSize || message[0] != Microphone)
        {
            return $"a binary message must be a microphone message (kind 0x03, {HeaderSize}-byte header)";
        }
        channels = message[1];
        sampleRate = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(message[4..]));
        pcm = message[HeaderSize..];
        if (channels is not (1 or 2) || !new Render.Audio.AudioFormat(sampleRate, channels).IsSupportedInput)
        {
            return $"microphone audio at {sampleRate} Hz with {channels} channels is not supported (mono or stereo at {string.Join(", ", Render.Audio.AudioFormat.SupportedInputRates)} Hz)";
        }
        if (pcm.Length % (2 * channels) != 0 || pcm.Length > MaxMicrophonePayload)
        {
            return $"microphone payload of {pcm.Length} bytes is not whole 16-bit frames of at most {MaxMicrophonePayload} bytes";
        }
        return null;
    }

    private static long Micros(TimeSpan t) => t.Ticks / TimeSpan.TicksPerMicrosecond;
}
