using System.Buffers.Binary;

namespace Platform.Render.Audio;

/// <summary>Minimal RIFF/WAVE (PCM 16-bit) reading and writing for test audio and HTTP speech endpoints.</summary>
public static class Wav
{
    /// <summary>16-bit little-endian PCM bytes (an even count) as samples, on any host byte order.</summary>
    public static short[] DecodePcm16(ReadOnlySpan<byte> bytes)
    {
        var samples = new short[bytes.Length / 2];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = BinaryPrimitives.ReadInt16LittleEndian(bytes[(2 * i)..]);
        }

        return samples;
    }

    public static byte[] Encode(ReadOnlySpan<short> samples, AudioFormat format)
    {
        var dataBytes = samples.Length * 2;
        var bytes = new byte[44 + dataBytes];
        var s = bytes.AsSpan();
        "RIFF"u8.CopyTo(s);
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], 36 + dataBytes);
        "WAVEfmt "u8.CopyTo(s[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(s[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(s[20..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(s[22..], (short)format.Channels);
        BinaryPrimitives.WriteInt32LittleEndian(s[24..], format.SampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(s[28..], format.SampleRate * format.BytesPerFrame);
        BinaryPrimitives.WriteInt16LittleEndian(s[32..], (short)format.BytesPerFrame);
        BinaryPrimitives.WriteInt16LittleEndian(s[34..], 16);
        "data"u8.CopyTo(s[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(s[40..], dataBytes);
        for (var i = 0; i < samples.Length; i++) BinaryPrimitives.WriteInt16LittleEndian(s[(44 + 2 * i)..], samples[i]);
        return bytes;
    }

    /// <summary>Parses a 16-bit PCM WAV; returns false (with a reason) for anything else.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out short[] samples, out AudioFormat format, out string? error)
    {
        samples = [];
        format = default;
        error = null;
        if (bytes.Length < 12 || !bytes[..4].SequenceEqual("RIFF"u8) || !bytes[8..12].SequenceEqual("WAVE"u8))
        {
            error = "not a RIFF/WAVE file";
            return false;
        }
        var pos = 12;
        var haveFormat = false;
        while (pos + 8 <= bytes.Length)
        {
            var id = bytes.Slice(pos, 4);
            var size = BinaryPrimitives.ReadInt32LittleEndian(bytes[(pos + 4)..]);
            var body = pos + 8;
            if (size < 0) break;
            // Streamed WAVs may carry 0 or 0xFFFFFFFF as the data size: take the rest of the bytes.
            var available = Math.Min(size == 0 && id.SequenceEqual("data"u8) ? int.MaxValue : size, bytes.Length - body);
            if (id.SequenceEqual("fmt "u8) && available >= 16)
            {
                var tag = BinaryPrimitives.ReadInt16LittleEndian(bytes[body..]);
                var channels = BinaryPrimitives.ReadInt16LittleEndian(bytes[(body + 2)..]);
                var rate = BinaryPrimitives.ReadInt32LittleEndian(bytes[(body + 4)..]);
                var bits = BinaryPrimitives.ReadInt16LittleEndian(bytes[(body + 14)..]);
                if ((tag != 1 && tag != unchecked((short)0xFFFE)) || bits != 16 || channels is < 1 or > 2 || rate <= 0)
                {
                    error = $"unsupported WAV format (tag {tag}, {bits} bits, {channels} channels, {rate} Hz): need 16-bit PCM";
                    return false;
                }
                format = new AudioFormat(rate, channels);
                haveFormat = true;
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (!haveFormat)
                {
                    error = "WAV data before fmt chunk";
                    return false;
                }
                samples = DecodePcm16(bytes.Slice(body, available & ~1));
                return true;
            }
            pos = body + available + (available & 1);
        }
        error = haveFormat ? "WAV has no data chunk" : "WAV has no fmt chunk";
        return false;
    }
}
