using Platform.Render.Face;

namespace Platform.Render.Tests.Face;

public sealed class AnimationTests
{
    private const double Fps = 30;

    [Fact]
    public void Animator_is_deterministic_given_seed_and_media_time()
    {
        var a = Speaking(new FaceAnimator(42));
        var b = Speaking(new FaceAnimator(42));
        var c = new FaceAnimator(43);
        var times = Enumerable.Range(0, 200).Select(i => TimeSpan.FromSeconds(i * 0.037)).ToArray();
        var wa = new float[FaceWeights.Count];
        var wb = new float[FaceWeights.Count];
        var wc = new float[FaceWeights.Count];
        var differs = false;
        foreach (var t in times.Reverse())
        {
            b.Evaluate(t, wb);
        }

        foreach (var t in times)
        {
            a.Evaluate(t, wa);
            b.Evaluate(t, wb);
            c.Evaluate(t, wc);
            Assert.Equal(wa, wb);
            differs |= !wa.SequenceEqual(wc);
        }

        Assert.True(differs, "another seed should give other idle motion");
    }

    [Fact]
    public void Interruption_closes_the_mouth_within_150ms()
    {
        var animator = Speaking(new FaceAnimator(1));
        var w = new float[FaceWeights.Count];
        animator.Evaluate(TimeSpan.FromSeconds(1.0), w);
        Assert.True(animator.IsSpeaking(TimeSpan.FromSeconds(1.0)));
        animator.Interrupt(TimeSpan.FromSeconds(1.2));
        animator.Evaluate(TimeSpan.FromSeconds(1.35), w);
        Assert.True(w[(int)Blendshape.JawOpen] < 0.02f, $"jaw {w[(int)Blendshape.JawOpen]} 150 ms after the cut");
        Assert.False(animator.IsSpeaking(TimeSpan.FromSeconds(1.35)));
    }

    [Fact]
    public void Listening_cues_nod_and_raise_brows()
    {
        var animator = new FaceAnimator(5);
        var before = new float[FaceWeights.Count];
        var after = new float[FaceWeights.Count];
        var t = TimeSpan.FromSeconds(3);
        animator.Evaluate(t + TimeSpan.FromMilliseconds(140), before);
        animator.Cue(ListeningCue.Nod, t);
        animator.Cue(ListeningCue.BrowRaise, t);
        animator.Evaluate(t + TimeSpan.FromMilliseconds(140), after);
        Assert.True(after[(int)Blendshape.HeadPitch] - before[(int)Blendshape.HeadPitch] > 0.1f, "nod tilts the head down");
        Assert.True(after[(int)Blendshape.BrowsUp] - before[(int)Blendshape.BrowsUp] > 0.2f, "brows go up");
    }

    [Fact]
    public void Arpabet_phones_map_to_visemes()
    {
        Assert.Equal(Viseme.MBP, Visemes.FromArpabet("m"));
        Assert.Equal(Viseme.AA, Visemes.FromArpabet("AA1"));
        Assert.Equal(Viseme.Silence, Visemes.FromArpabet("pau"));
        var cues = Visemes.FromPhoneEnds([("pau", 0.1), ("hh", 0.18), ("ax", 0.25), ("l", 0.31), ("ow", 0.5)]);
        Assert.Equal(5, cues.Count);
        Assert.Equal(new VisemeCue(Viseme.OW, 0.31, 0.5), cues[^1]);
    }

    [Theory]
    [InlineData(FaceRendererKind.Raster, 96)]
    [InlineData(FaceRendererKind.Skia, 96)]
    [InlineData(FaceRendererKind.Onnx, 64)]
    public void Never_frozen_while_idle_or_listening(FaceRendererKind kind, int size)
    {
        using var asset = FaceAsset.Create(StockLooks.Mei, atlasSize: 256);
        using var renderer = asset.CreateRenderer(kind, size, size);
        var animator = new FaceAnimator(7);
        animator.Cue(ListeningCue.Nod, TimeSpan.FromSeconds(4));
        animator.Cue(ListeningCue.BrowRaise, TimeSpan.FromSeconds(7));
        var w = new float[FaceWeights.Count];
        var previous = new byte[size * size * 4];
        var current = new byte[size * size * 4];
        var frames = (int)(10.5 * Fps);
        var run = 0;
        var longest = 0;
        for (var f = 0; f < frames; f++)
        {
            animator.Evaluate(TimeSpan.FromSeconds(f / Fps), w);
            renderer.Render(w, current);
            if (f > 0)
            {
                run = current.AsSpan().SequenceEqual(previous) ? run + 1 : 0;
                longest = Math.Max(longest, run);
            }

            (previous, current) = (current, previous);
        }

        var frozenMs = longest * 1000 / Fps;
        Assert.True(frozenMs <= 500, $"{kind}: {longest} identical consecutive frames ({frozenMs} ms)");
    }

    [Fact]
    public void Blinks_seen_in_pixels_every_2_to_6_seconds()
    {
        const int size = 128;
        using var asset = FaceAsset.Create(StockLooks.Marcus, atlasSize: 256);
        using var renderer = asset.CreateRenderer(FaceRendererKind.Skia, size, size);
        var animator = new FaceAnimator(11);
        var framing = renderer.Framing;
        var eyeBoxes = new[] { asset.Model.RightEyeFill, asset.Model.LeftEyeFill }.Select(fill => Box(fill.Select(i => framing.ToPixel(asset.Model.Neutral[i])), 1)).ToArray();
        var w = new float[FaceWeights.Count];
        var rgba = new byte[size * size * 4];
        var counts = new List<int>();
        var frames = (int)(21 * Fps);
        for (var f = 0; f < frames; f++)
        {
            animator.Evaluate(TimeSpan.FromSeconds(f / Fps), w);
            renderer.Render(w, rgba);
            var luma = FaceTestSupport.LumaOverGrey(rgba, size, size);
            var bright = 0;
            foreach (var (x0, y0, x1, y1) in eyeBoxes)
            {
                for (var y = y0; y < y1; y++)
                {
                    for (var x = x0; x < x1; x++)
                    {
                        bright += luma[y * size + x] > 160 ? 1 : 0;
                    }
                }
            }

            counts.Add(bright);
        }

        var median = counts.Order().ElementAt(counts.Count / 2);
        Assert.True(median >= 6, $"eye whites not visible (median {median} bright pixels)");
        var onsets = new List<double>();
        for (var f = 1; f < frames; f++)
        {
            if (counts[f] < 0.35 * median && counts[f - 1] >= 0.35 * median)
            {
                onsets.Add(f / Fps);
            }
        }

        var intervals = onsets.Zip(onsets.Skip(1), (a, b) => b - a).ToList();
        Assert.True(onsets.Count >= 4, $"only {onsets.Count} blinks in 21 s: {string.Join(", ", onsets)}");
        Assert.All(intervals, i => Assert.InRange(i, 2.0, 6.0));
    }

    [Theory]
    [InlineData(FaceRendererKind.Raster, 128)]
    [InlineData(FaceRendererKind.Skia, 128)]
    [InlineData(FaceRendererKind.Onnx, 96)]
    public void Mouth_opening_in_pixels_follows_the_viseme_timeline(FaceRendererKind kind, int size)
    {
        using var asset = FaceAsset.Create(StockLooks.Anna, atlasSize: 256);
        using var renderer = asset.CreateRenderer(kind, size, size);
        var (cues, envelope, pcm, rate, duration) = SyntheticSpeech(seed: 3);
        var animator = new FaceAnimator(9);
        var start = TimeSpan.FromSeconds(0.5);
        animator.Speak(new SpeechClip(start, cues, pcm, rate));

        var framing = renderer.Framing;
        var mouth = Box(asset.Model.MouthFill.Select(i => framing.ToPixel(asset.Model.Reference[i])), 2);
        var w = new float[FaceWeights.Count];
        var rgba = new byte[size * size * 4];
        var open = new List<double>();
        var times = new List<double>();
        for (var f = 0; f < (int)((duration + 1.0) * Fps); f++)
        {
            var t = f / Fps;
            animator.Evaluate(TimeSpan.FromSeconds(t), w);
            renderer.Render(w, rgba);
            var luma = FaceTestSupport.LumaOverGrey(rgba, size, size);
            var dark = 0;
            for (var y = mouth.Y0; y < mouth.Y1; y++)
            {
                for (var x = mouth.X0; x < mouth.X1; x++)
                {
                    dark += luma[y * size + x] < 75 ? 1 : 0;
                }
            }

            open.Add(dark);
            times.Add(t - start.TotalSeconds);
            if (kind == FaceRendererKind.Skia && f == 40)
            {
                FaceTestSupport.SavePng("lipsync-frame40", rgba, size, size);
            }
        }

        var best = (Lag: 0, R: double.MinValue);
        for (var lagMs = -300; lagMs <= 300; lagMs += 5)
        {
            var r = Stats.Correlation(open, times.Select(t => envelope(t + lagMs / 1000.0)).ToList());
            if (r > best.R)
            {
                best = (lagMs, r);
            }
        }

        File.WriteAllText(Path.Combine(FaceTestSupport.OutputFolder, $"lipsync-{kind}.txt"), $"best lag {best.Lag} ms, r = {best.R:F3}");
        Assert.True(best.R >= 0.6, $"{kind}: correlation {best.R:F3} at {best.Lag} ms");
        Assert.InRange(best.Lag, -45, 45);
    }

    /// <summary>Open syllables (vowels) separated by closures and pauses; envelope 1 on vowels; PCM follows it.</summary>
    private static (List<VisemeCue> Cues, Func<double, double> Envelope, short[] Pcm, int Rate, double Duration) SyntheticSpeech(int seed)
    {
        var random = new Random(seed);
        var cues = new List<VisemeCue>();
        var t = 0.0;
        Viseme[] vowels = [Viseme.AA, Viseme.OW, Viseme.EH, Viseme.AA];
        Viseme[] closures = [Viseme.MBP, Viseme.SZ, Viseme.MBP, Viseme.FV];
        while (t < 5.0)
        {
            var c = 0.08 + 0.1 * random.NextDouble();
            cues.Add(new VisemeCue(closures[random.Next(closures.Length)], t, t + c));
            t += c;
            var v = 0.14 + 0.2 * random.NextDouble();
            cues.Add(new VisemeCue(vowels[random.Next(vowels.Length)], t, t + v));
            t += v;
            if (random.NextDouble() < 0.2)
            {
                var p = 0.25 + 0.2 * random.NextDouble();
                cues.Add(new VisemeCue(Viseme.Silence, t, t + p));
                t += p;
            }
        }

        var vowelCues = cues.Where(c => vowels.Contains(c.Viseme)).ToArray();
        double Envelope(double s) => vowelCues.Any(c => s >= c.Start && s < c.End) ? 1 : 0;
        const int rate = 16000;
        var pcm = new short[(int)(t * rate)];
        for (var i = 0; i < pcm.Length; i++)
        {
            var s = i / (double)rate;
            pcm[i] = (short)(Envelope(s) * 9000 * Math.Sin(2 * Math.PI * 180 * s) + 200 * Math.Sin(2 * Math.PI * 1300 * s));
        }

        return (cues, Envelope, pcm, rate, t);
    }

    private static FaceAnimator Speaking(FaceAnimator animator)
    {
        animator.Speak(new SpeechClip(TimeSpan.FromSeconds(0.5),
            [new(Viseme.MBP, 0, 0.1), new(Viseme.AA, 0.1, 0.5), new(Viseme.SZ, 0.5, 0.6), new(Viseme.OW, 0.6, 1.2), new(Viseme.AA, 1.2, 2.0)]));
        animator.Cue(ListeningCue.Nod, TimeSpan.FromSeconds(3));
        return animator;
    }

    private static (int X0, int Y0, int X1, int Y1) Box(IEnumerable<System.Numerics.Vector2> points, int margin)
    {
        var list = points.ToList();
        return ((int)list.Min(p => p.X) - margin, (int)list.Min(p => p.Y) - margin, (int)MathF.Ceiling(list.Max(p => p.X)) + margin, (int)MathF.Ceiling(list.Max(p => p.Y)) + margin);
    }
}
