namespace Platform.Render.Audio;

/// <summary>Interleaved signed 16-bit little-endian PCM at a sample rate with 1 or 2 channels.</summary>
public readonly record struct AudioFormat(int SampleRate, int Channels)
{
    /// <summary>The pipeline's internal format: what VAD and ASR consume.</summary>
    public static readonly AudioFormat Speech16k = new(16_000, 1);

    /// <summary>What the transports send out.</summary>
    public static readonly AudioFormat Output48k = new(48_000, 1);

    /// <summary>Input rates the platform accepts from clients.</summary>
    public static readonly IReadOnlyList<int> SupportedInputRates = [8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000];

    public bool IsSupportedInput => Channels is 1 or 2 && SupportedInputRates.Contains(SampleRate);

    public int BytesPerFrame => 2 * Channels;

    public TimeSpan DurationOf(long samplesPerChannel) => MediaTime.FromSamples(samplesPerChannel, SampleRate);

    public override string ToString() => $"{SampleRate} Hz {(Channels == 1 ? "mono" : Channels == 2 ? "stereo" : $"{Channels} ch")}";
}

/// <summary>Media-time arithmetic: every decision in the pipeline is stamped with sample counts, never the wall clock.</summary>
public static class MediaTime
{
    public static TimeSpan FromSamples(long samples, int sampleRate) =>
        TimeSpan.FromTicks(samples * TimeSpan.TicksPerSecond / sampleRate);

    public static long ToSamples(TimeSpan time, int sampleRate) =>
        (long)Math.Round(time.Ticks * (double)sampleRate / TimeSpan.TicksPerSecond);
}
