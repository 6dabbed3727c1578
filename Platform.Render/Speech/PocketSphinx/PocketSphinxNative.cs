using System.Runtime.InteropServices;

namespace Platform.Render.Speech.PocketSphinx;

/// <summary>PocketSphinx 5prealpha (Debian libpocketsphinx3) and SphinxBase, without variadic calls.</summary>
internal static class PocketSphinxNative
{
    public const string Library = "libpocketsphinx.so.3";
    public const string SphinxBase = "libsphinxbase.so.3";

    [DllImport(Library)] public static extern IntPtr ps_args();
    [DllImport(Library)] public static extern IntPtr ps_init(IntPtr config);
    [DllImport(SphinxBase)] public static extern void err_set_logfp(IntPtr stream);
    [DllImport(Library)] public static extern int ps_free(IntPtr ps);
    [DllImport(Library)] public static extern int ps_start_utt(IntPtr ps);
    [DllImport(Library)] public static extern int ps_start_stream(IntPtr ps);
    [DllImport(Library)] public static extern unsafe int ps_process_raw(IntPtr ps, short* data, nuint samples, int noSearch, int fullUtt);
    [DllImport(Library)] public static extern int ps_end_utt(IntPtr ps);
    [DllImport(Library)] public static extern IntPtr ps_get_hyp(IntPtr ps, out int bestScore);
    [DllImport(Library)] public static extern int ps_get_n_frames(IntPtr ps);
    [DllImport(Library)] public static extern IntPtr ps_seg_iter(IntPtr ps);
    [DllImport(Library)] public static extern IntPtr ps_seg_next(IntPtr seg);
    [DllImport(Library)] public static extern IntPtr ps_seg_word(IntPtr seg);
    [DllImport(Library)] public static extern void ps_seg_frames(IntPtr seg, out int startFrame, out int endFrame);
    [DllImport(Library)] public static extern void ps_seg_free(IntPtr seg);

    [DllImport(SphinxBase)] public static extern IntPtr cmd_ln_parse_r(IntPtr inout, IntPtr definitions, int argc, IntPtr[] argv, int strict);
    [DllImport(SphinxBase)] public static extern int cmd_ln_free_r(IntPtr config);

    public static bool TryLoad(out string? reason)
    {
        try
        {
            if (NativeLibrary.TryLoad(SphinxBase, out _) && NativeLibrary.TryLoad(Library, out _))
            {
                reason = null;
                return true;
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
        {
        }
        reason = $"{Library} not loadable: install Debian libpocketsphinx3 libsphinxbase3 pocketsphinx-en-us (infra/install.sh)";
        return false;
    }
}
