using System.Runtime.InteropServices;

namespace Platform.Render.Speech.Flite;

/// <summary>Flite 2.2 (Debian libflite1). Struct offsets of cst_wave are for 64-bit Linux.</summary>
internal static unsafe class FliteNative
{
    public const string Library = "libflite.so.1";

    [DllImport(Library)] public static extern int flite_init();
    [DllImport(Library)] public static extern IntPtr flite_synth_text(byte* text, IntPtr voice);
    [DllImport(Library)] public static extern IntPtr utt_wave(IntPtr utt);
    [DllImport(Library)] public static extern IntPtr utt_relation(IntPtr utt, byte* name);
    [DllImport(Library)] public static extern IntPtr relation_head(IntPtr relation);
    [DllImport(Library)] public static extern IntPtr item_next(IntPtr item);
    [DllImport(Library)] public static extern IntPtr item_feat_string(IntPtr item, byte* name);
    [DllImport(Library)] public static extern float item_feat_float(IntPtr item, byte* name);
    [DllImport(Library)] public static extern IntPtr delete_utterance(IntPtr utt);

    // cst_wave { const char *type; int sample_rate; int num_samples; int num_channels; short *samples; }
    public const int WaveSampleRate = 8, WaveNumSamples = 12, WaveNumChannels = 16, WaveSamples = 24;
}
