using Platform.Render.Face;

namespace Platform.Render.Tests.Face;

public sealed class CompositorTests
{
    [Fact]
    public void Green_screen_is_pure_key_outside_the_person()
    {
        using var asset = FaceAsset.Create(StockLooks.Anna, atlasSize: 256);
        using var renderer = asset.CreateRenderer(FaceRendererKind.Skia, 128, 128);
        using var compositor = new FaceCompositor(asset.Look, renderer, new CompositorOptions { Width = 320, Height = 180, GreenScreen = true });
        var animator = new FaceAnimator(3);
        var w = new float[FaceWeights.Count];
        animator.Evaluate(TimeSpan.FromSeconds(1), w);
        using var frame = compositor.Compose(w, TimeSpan.FromSeconds(1));
        var key = FaceBackground.DefaultKey;
        byte ky = Yuv.Y(key.R, key.G, key.B), ku = Yuv.U(key.R, key.G, key.B), kv = Yuv.V(key.R, key.G, key.B);
        var fg = compositor.Foreground;
        int keyed = 0, person = 0;
        for (var y = 0; y < 180; y += 2)
        {
            for (var x = 0; x < 320; x += 2)
            {
                var empty = true;
                for (var d = 0; d < 4; d++)
                {
                    empty &= fg[((y + d / 2) * 320 + x + d % 2) * 4 + 3] == 0;
                }

                if (!empty)
                {
                    person++;
                    continue;
                }

                keyed++;
                for (var d = 0; d < 4; d++)
                {
                    Assert.Equal(ky, frame.Y[(y + d / 2) * 320 + x + d % 2]);
                }

                Assert.Equal(ku, frame.U[y / 2 * 160 + x / 2]);
                Assert.Equal(kv, frame.V[y / 2 * 160 + x / 2]);
            }
        }

        Assert.True(keyed > 5000, $"only {keyed} keyed blocks");
        Assert.True(person > 2000, $"only {person} blocks of person");
        // Inside the face region but outside the head (its top corners) is keyed too.
        var r = compositor.FaceRect;
        Assert.Equal(ky, frame.Y[(r.Top + 2) * 320 + r.Left + 2]);
        SaveI420("composite-greenscreen", frame);
    }

    [Fact]
    public void Frames_are_pooled_and_composing_allocates_little()
    {
        using var asset = FaceAsset.Create(StockLooks.Marcus, atlasSize: 256);
        using var renderer = asset.CreateRenderer(FaceRendererKind.Skia, 256, 256);
        using var compositor = new FaceCompositor(asset.Look, renderer, new CompositorOptions { FaceSize = 512 });
        var animator = new FaceAnimator(3);
        var w = new float[FaceWeights.Count];
        byte[] first;
        using (var frame = compositor.Compose(w, TimeSpan.Zero))
        {
            Assert.Equal(1280 * 720 * 3 / 2, frame.Length);
            first = frame.Buffer;
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        const int frames = 10;
        I420Frame? last = null;
        for (var f = 1; f <= frames; f++)
        {
            animator.Evaluate(TimeSpan.FromSeconds(f / 30.0), w);
            last?.Dispose();
            last = compositor.Compose(w, TimeSpan.FromSeconds(f / 30.0));
            Assert.Same(first, last.Buffer);
        }

        var perFrame = (GC.GetAllocatedBytesForCurrentThread() - before) / frames;
        SaveI420("composite-720p-marcus", last!);
        last!.Dispose();
        Assert.True(perFrame < 16 * 1024, $"{perFrame} bytes allocated per 720p frame");
    }

    [Fact]
    public void Stock_looks_compose_at_1080p_and_720p()
    {
        foreach (var look in StockLooks.All)
        {
            using var asset = FaceAsset.Create(look, atlasSize: 512);
            using var renderer = asset.CreateRenderer(FaceRendererKind.Skia, 384, 384);
            var options = look == StockLooks.Anna ? CompositorOptions.Hd1080 : CompositorOptions.Hd720;
            using var compositor = new FaceCompositor(look, renderer, options);
            var w = FaceWeights.Of((Blendshape.Smile, 0.3f), (Blendshape.HeadYaw, 0.15f), (Blendshape.JawOpen, 0.25f));
            using var frame = compositor.Compose(w, TimeSpan.Zero);
            Assert.Equal(options.Width, frame.Width);
            Assert.Equal(options.Height, frame.Height);
            SaveI420($"composite-{look.Name}-{options.Height}p", frame);
        }
    }

    /// <summary>Converts back to RGB (BT.601 limited) so a person can look at what goes to the encoder.</summary>
    private static void SaveI420(string name, I420Frame frame)
    {
        int w = frame.Width, h = frame.Height;
        var rgba = new byte[w * h * 4];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var c = 1.164 * (frame.Y[y * w + x] - 16);
                var d = frame.U[y / 2 * (w / 2) + x / 2] - 128;
                var e = frame.V[y / 2 * (w / 2) + x / 2] - 128;
                var i = (y * w + x) * 4;
                rgba[i] = (byte)Math.Clamp(c + 1.596 * e, 0, 255);
                rgba[i + 1] = (byte)Math.Clamp(c - 0.392 * d - 0.813 * e, 0, 255);
                rgba[i + 2] = (byte)Math.Clamp(c + 2.017 * d, 0, 255);
                rgba[i + 3] = 255;
            }
        }

        FaceTestSupport.SavePng(name, rgba, w, h);
    }
}
