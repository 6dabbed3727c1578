using Platform.Render.Audio;

namespace Platform.Render.Tests.Audio;

public sealed class ResamplerTests
{
    public static TheoryData<int, int> Formats()
    {
        var data = new TheoryData<int, int>();
        foreach (var rate in new[] { 8_000, 16_000, 22_050, 24_000, 44_100, 48_000 })
            foreach (var channels in new[] { 1, 2 })
                data.Add(rate, channels);
        return data;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Input_at_any_common_rate_becomes_16k_mono_with_the_tone_frequency_and_level_kept(int rate, int channels)
    {
        const double tone = 1_000, amplitude = 0.5;
        var input = new AudioInput(new AudioFormat(rate, channels));
        Assert.Null(input.Error);
        var bytes = Tone(rate, channels, tone, amplitude, TimeSpan.FromSeconds(1));

        using var frame = input.Push(bytes);
        Assert.NotNull(frame);
        Assert.Equal(AudioFormat.Speech16k, frame.Format);
        Assert.InRange(frame.Length, 16_000 - 40, 16_000 + 2);

        var steady = frame.Samples[800..^800]; // past the filter's start-up and before the end
        Assert.InRange(Frequency(steady, 16_000), tone * 0.995, tone * 1.005);
        Assert.InRange(Rms(steady), amplitude / Math.Sqrt(2) * 0.97, amplitude / Math.Sqrt(2) * 1.03);
    }

    [Theory]
    [InlineData(44_100, 2)]
    [InlineData(22_050, 1)]
    [InlineData(8_000, 1)]
    [InlineData(48_000, 2)]
    public void Chunk_boundaries_do_not_change_the_output(int rate, int channels)
    {
        var bytes = Tone(rate, channels, 440, 0.3, TimeSpan.FromSeconds(0.7));
        var whole = new AudioInput(new AudioFormat(rate, channels));
        using var expected = whole.Push(bytes);

        var chunked = new AudioInput(new AudioFormat(rate, channels));
        var rng = new Random(rate + channels);
        var collected = new List<short>();
        var expectedStart = TimeSpan.Zero;
        for (var pos = 0; pos < bytes.Length;)
        {
            var n = Math.Min(rng.Next(0, 997), bytes.Length - pos); // odd, tiny and empty chunks included
            using var frame = chunked.Push(bytes.AsSpan(pos, n));
            pos += n;
            if (frame is null) continue;
            Assert.Equal(expectedStart, frame.Timestamp);
            expectedStart = frame.End;
            collected.AddRange(frame.Samples.ToArray());
        }
        Assert.Equal(expected!.Samples.ToArray(), collected.ToArray());
    }

    [Theory]
    [InlineData(16_000, 48_000, 3_000)]
    [InlineData(24_000, 48_000, 5_000)]
    [InlineData(48_000, 16_000, 250)]
    public void Output_resampling_keeps_the_frequency(int from, int to, double tone)
    {
        var resampler = new Resampler(from, to);
        var samples = new short[from];
        for (var i = 0; i < samples.Length; i++) samples[i] = (short)(12_000 * Math.Sin(2 * Math.PI * tone * i / from));
        var output = new List<short>();
        for (var i = 0; i < samples.Length; i += 333) output.AddRange(resampler.Process(samples.AsSpan(i, Math.Min(333, samples.Length - i))));
        Assert.InRange(output.Count, to - 30, to + 2);
        Assert.InRange(Frequency(output.ToArray().AsSpan(to / 20, to * 8 / 10), to), tone * 0.995, tone * 1.005);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(7_000, 1)]
    [InlineData(16_000, 3)]
    [InlineData(-44_100, 2)]
    public void Unsupported_formats_are_reported_not_thrown(int rate, int channels)
    {
        var input = new AudioInput(new AudioFormat(rate, channels));
        Assert.NotNull(input.Error);
        Assert.Contains("unsupported", input.Error);
        Assert.Null(input.Push(new byte[1000]));
    }

    [Fact]
    public void Empty_and_odd_length_buffers_are_carried_not_lost()
    {
        var input = new AudioInput(new AudioFormat(16_000, 1));
        Assert.Null(input.Push(ReadOnlySpan<byte>.Empty));
        Assert.Null(input.Push(new byte[] { 0x34 }));          // half a sample waits
        using var frame = input.Push(new byte[] { 0x12, 0x00 }); // completes 0x1234, then half of the next
        Assert.NotNull(frame);
        Assert.Equal(new short[] { 0x1234 }, frame.Samples.ToArray());
    }

    [Fact]
    public void Frames_return_their_buffers_and_refuse_use_after_dispose()
    {
        var frame = PcmFrame.Rent([1, 2, 3], AudioFormat.Speech16k, TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(1) + TimeSpan.FromTicks(3 * TimeSpan.TicksPerSecond / 16_000), frame.End);
        frame.Dispose();
        frame.Dispose();
        Assert.Throws<ObjectDisposedException>(() => frame.Samples.Length);
    }

    internal static byte[] Tone(int rate, int channels, double frequency, double amplitude, TimeSpan duration)
    {
        var n = (int)(rate * duration.TotalSeconds);
        var bytes = new byte[n * channels * 2];
        for (var i = 0; i < n; i++)
        {
            var v = (short)Math.Round(amplitude * 32767 * Math.Sin(2 * Math.PI * frequency * i / rate));
            for (var c = 0; c < channels; c++)
            {
                bytes[(i * channels + c) * 2] = (byte)v;
                bytes[(i * channels + c) * 2 + 1] = (byte)(v >> 8);
            }
        }
        return bytes;
    }

    /// <summary>Frequency from the interpolated positions of the first and last rising zero crossings.</summary>
    internal static double Frequency(ReadOnlySpan<short> s, int rate)
    {
        double first = -1, last = -1;
        var crossings = 0;
        for (var i = 1; i < s.Length; i++)
        {
            if (s[i - 1] < 0 && s[i] >= 0)
            {
                var t = i - 1 + (double)-s[i - 1] / (s[i] - s[i - 1]);
                if (first < 0) first = t;
                else crossings++;
                last = t;
            }
        }
        return crossings == 0 ? 0 : crossings * rate / (last - first);
    }

    internal static double Rms(ReadOnlySpan<short> s)
    {
        double sum = 0;
        foreach (var v in s) sum += (v / 32768.0) * (v / 32768.0);
        return Math.Sqrt(sum / s.Length);
    }
}

public sealed class AudioOutputTests
{
    [Theory]
    [InlineData(16_000)]
    [InlineData(24_000)]
    public void Speech_becomes_contiguous_20ms_frames_at_48k_with_the_tone_kept(int rate)
    {
        var output = new AudioOutput();
        var tone = new short[rate * 2];
        for (var i = 0; i < tone.Length; i++) tone[i] = (short)(10_000 * Math.Sin(2 * Math.PI * 700 * i / rate));
        var samples = new List<short>();
        var expected = TimeSpan.Zero;
        for (var i = 0; i < tone.Length; i += 777)
        {
            foreach (var frame in output.Push(tone.AsSpan(i, Math.Min(777, tone.Length - i)), rate))
            {
                using (frame)
                {
                    Assert.Equal(AudioFormat.Output48k, frame.Format);
                    Assert.Equal(960, frame.Length);
                    Assert.Equal(expected, frame.Timestamp);
                    expected = frame.End;
                    samples.AddRange(frame.Samples.ToArray());
                }
            }
        }
        Assert.InRange(samples.Count, 96_000 - 960, 96_000);
        Assert.InRange(ResamplerTests.Frequency(samples.ToArray().AsSpan(4_800, 80_000), 48_000), 700 * 0.995, 700 * 1.005);
        Assert.Empty(output.Push([], rate));
        Assert.Empty(output.Push(new short[10], 0));
    }
}
