namespace Platform.Render.Face;

/// <summary>Cues from the conversation that the face answers while listening.</summary>
public enum ListeningCue
{
    Nod,
    BrowRaise,
}

/// <summary>
/// Turns speech (visemes on the media timeline, optional audio) and listening cues into blendshape weights. Idle life
/// (blinks every 2–6 s, breathing, small head motion) never stops, so no two frames are alike. The result is a pure
/// function of the seed, the clips and cues given, and the media time: frames can be evaluated in any order.
/// </summary>
public sealed class FaceAnimator
{
    /// <summary>How long the mouth takes to settle after an interruption.</summary>
    public static readonly TimeSpan InterruptRelease = TimeSpan.FromMilliseconds(100);

    private readonly Lock gate = new();
    private readonly List<SpeechClip> clips = [];
    private readonly List<(ListeningCue Cue, double At)> cues = [];
    private readonly List<double> blinkStarts = [];
    private readonly Random blinkRandom;
    private readonly double[] phases = new double[8];
    private double? cutAt;

    public FaceAnimator(int seed)
    {
        Seed = seed;
        var r = new Random(seed);
        for (var i = 0; i < phases.Length; i++)
        {
            phases[i] = r.NextDouble() * Math.PI * 2;
        }

        blinkRandom = new Random(unchecked(seed * 7919 + 17));
        blinkStarts.Add(0.8 + 1.5 * blinkRandom.NextDouble());
    }

    public int Seed { get; }

    /// <summary>Blink onsets are this far apart (seconds).</summary>
    public const double MinBlinkInterval = 2.3;

    public const double MaxBlinkInterval = 5.6;

    public void Speak(SpeechClip clip)
    {
        lock (gate)
        {
            clips.Add(clip);
            clips.Sort((a, b) => a.MediaStart.CompareTo(b.MediaStart));
            if (cutAt is { } cut && clip.MediaStart.TotalSeconds >= cut)
            {
                // Clips cut by an interruption stay cut: they must not come back with the next utterance.
                clips.RemoveAll(c => c.MediaStart.TotalSeconds < cut);
                cutAt = null;
            }
        }
    }

    /// <summary>Barge-in: speech stops at <paramref name="at"/>; the mouth is at rest <see cref="InterruptRelease"/> later.</summary>
    public void Interrupt(TimeSpan at)
    {
        lock (gate)
        {
            cutAt = at.TotalSeconds;
        }
    }

    public void Cue(ListeningCue cue, TimeSpan at)
    {
        lock (gate)
        {
            cues.Add((cue, at.TotalSeconds));
        }
    }

    /// <summary>Drops clips and cues that ended before <paramref name="before"/>.</summary>
    public void Forget(TimeSpan before)
    {
        lock (gate)
        {
            clips.RemoveAll(c => (c.MediaStart + c.Duration).TotalSeconds + 1 < before.TotalSeconds);
            cues.RemoveAll(c => c.At + 2 < before.TotalSeconds);
        }
    }

    /// <summary>Whether speech is shaping the mouth at <paramref name="t"/>.</summary>
    public bool IsSpeaking(TimeSpan t)
    {
        lock (gate)
        {
            var s = t.TotalSeconds;
            return (cutAt is null || s < cutAt) && clips.Any(c => s >= c.MediaStart.TotalSeconds && s <= (c.MediaStart + c.Duration).TotalSeconds);
        }
    }

    public void Evaluate(TimeSpan mediaTime, Span<float> weights)
    {
        if (weights.Length < FaceWeights.Count)
        {
            throw new ArgumentException($"Need {FaceWeights.Count} weights.", nameof(weights));
        }

        weights[..FaceWeights.Count].Clear();
        var t = mediaTime.TotalSeconds;
        lock (gate)
        {
            var (jaw, round, wide, closed, loud) = Mouth(t);
            weights[(int)Blendshape.JawOpen] = jaw;
            weights[(int)Blendshape.LipsRound] = round;
            weights[(int)Blendshape.LipsWide] = wide;
            weights[(int)Blendshape.LipsClosed] = closed;

            // Idle life: incommensurate slow motions, so consecutive frames always differ.
            var breath = 0.5 + 0.5 * Math.Sin(2 * Math.PI * t / 4.3 + phases[0]);
            weights[(int)Blendshape.Breathing] = (float)breath;
            var yaw = 0.07 * Math.Sin(2 * Math.PI * 0.11 * t + phases[1]) + 0.035 * Math.Sin(2 * Math.PI * 0.29 * t + phases[2]);
            var pitch = 0.045 * Math.Sin(2 * Math.PI * 0.17 * t + phases[3]) + 0.02 * Math.Sin(2 * Math.PI * 0.41 * t + phases[4]);
            var roll = 0.04 * Math.Sin(2 * Math.PI * 0.13 * t + phases[5]);
            var brows = 0.04 + 0.04 * Math.Sin(2 * Math.PI * 0.07 * t + phases[6]);
            var smile = 0.08 + 0.05 * Math.Sin(2 * Math.PI * 0.05 * t + phases[7]);

            // Speaking: a little emphasis from loudness.
            pitch += 0.05 * loud;
            brows += 0.12 * loud;

            foreach (var (cue, at) in cues)
            {
                var d = t - at;
                if (d < 0 || d > 1.2)
                {
                    continue;
                }

                switch (cue)
                {
                    case ListeningCue.Nod:
                        // Two soft nods over a second.
                        pitch += 0.22 * Math.Sin(2 * Math.PI * d / 0.55) * Math.Sin(Math.PI * d / 1.1) * (d < 1.1 ? 1 : 0);
                        pitch += 0.08 * Math.Sin(Math.PI * Math.Min(d, 1.1) / 1.1);
                        break;
                    case ListeningCue.BrowRaise:
                        brows += 0.6 * Math.Sin(Math.PI * Math.Min(d, 0.9) / 0.9);
                        smile += 0.1 * Math.Sin(Math.PI * Math.Min(d, 0.9) / 0.9);
                        break;
                }
            }

            weights[(int)Blendshape.HeadYaw] = (float)yaw;
            weights[(int)Blendshape.HeadPitch] = (float)pitch;
            weights[(int)Blendshape.HeadRoll] = (float)roll;
            weights[(int)Blendshape.BrowsUp] = (float)Math.Clamp(brows, 0, 1);
            weights[(int)Blendshape.Smile] = (float)Math.Clamp(smile * (1 - jaw), 0, 1);

            var blink = Blink(t);
            weights[(int)Blendshape.BlinkLeft] = blink;
            weights[(int)Blendshape.BlinkRight] = blink;
        }
    }

    /// <summary>Blink onsets (seconds) up to <paramref name="until"/>.</summary>
    public IReadOnlyList<double> BlinkOnsets(TimeSpan until)
    {
        lock (gate)
        {
            EnsureBlinks(until.TotalSeconds);
            return [.. blinkStarts.Where(b => b <= until.TotalSeconds)];
        }
    }

    private float Blink(double t)
    {
        EnsureBlinks(t);
        var i = blinkStarts.BinarySearch(t);
        i = i >= 0 ? i : ~i - 1;
        if (i < 0)
        {
            return 0;
        }

        var d = t - blinkStarts[i];
        const double close = 0.09, hold = 0.05, open = 0.16;
        if (d < close)
        {
            return (float)HeadModel.Smooth(0, 1, (float)(d / close));
        }

        if (d < close + hold)
        {
            return 1;
        }

        if (d < close + hold + open)
        {
            return 1 - HeadModel.Smooth(0, 1, (float)((d - close - hold) / open));
        }

        return 0;
    }

    private void EnsureBlinks(double t)
    {
        while (blinkStarts[^1] <= t + MaxBlinkInterval)
        {
            blinkStarts.Add(blinkStarts[^1] + MinBlinkInterval + (MaxBlinkInterval - MinBlinkInterval) * blinkRandom.NextDouble());
        }
    }

    /// <summary>Coarticulated mouth: each viseme pulls towards its target with a dominance that falls off around it.</summary>
    private (float Jaw, float Round, float Wide, float Closed, float Loud) Mouth(double t)
    {
        double sw = 0.05, jaw = 0, round = 0, wide = 0, closed = 0.7 * 0.05, loud = 0;
        foreach (var clip in clips)
        {
            var local = t - clip.MediaStart.TotalSeconds;
            if (local < -0.3 || local > clip.Duration.TotalSeconds + 0.3)
            {
                continue;
            }

            var fade = 1.0;
            if (cutAt is { } cut)
            {
                var after = t - cut;
                if (after >= InterruptRelease.TotalSeconds || clip.MediaStart.TotalSeconds >= cut)
                {
                    continue;
                }

                fade = after <= 0 ? 1 : 1 - after / InterruptRelease.TotalSeconds;
            }

            var env = clip.Envelope is null ? -1 : clip.EnvelopeAt(local);
            loud = Math.Max(loud, Math.Max(0, env) * fade);
            if (clip.Visemes.Count == 0 && env >= 0)
            {
                // No visemes (e.g. a TTS endpoint without timings): loudness alone opens the jaw.
                var d = 3.0 * fade;
                sw += d;
                jaw += d * 0.8 * env;
                continue;
            }

            foreach (var cue in clip.Visemes)
            {
                var centre = (cue.Start + cue.End) / 2;
                var sigma = Math.Max(0.035, 0.45 * (cue.End - cue.Start));
                var dist = Math.Max(0, Math.Abs(local - centre) - 0.5 * (cue.End - cue.Start)) + 0.25 * Math.Abs(local - centre);
                if (dist > 4 * sigma)
                {
                    continue;
                }

                var target = Visemes.Target(cue.Viseme);
                var d = target.Dominance * Math.Exp(-(dist * dist) / (sigma * sigma)) * fade;
                var scale = env < 0 ? 1 : 0.55 + 0.45 * env;
                sw += d;
                jaw += d * target.Jaw * scale;
                round += d * target.Round;
                wide += d * target.Wide;
                closed += d * target.Closed;
            }
        }

        return ((float)(jaw / sw), (float)(round / sw), (float)(wide / sw), (float)(closed / sw), (float)loud);
    }
}
