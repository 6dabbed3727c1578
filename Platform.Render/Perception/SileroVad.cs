using Microsoft.ML.OnnxRuntime;

namespace Platform.Render.Perception;

/// <summary>
/// The Silero VAD v5 model (MIT, from npm @ricky0123/vad-web) loaded once per process; ONNX Runtime sessions are
/// safe to run concurrently, so every conversation shares it and keeps its own recurrent state in a
/// <see cref="SileroVadStream"/>.
/// </summary>
public sealed class SileroVadModel : IDisposable
{
    public const string AssetPath = "silero/silero_vad_v5.onnx";
    internal const int SampleRate = 16_000;
    internal const int FrameSamples = 512;
    internal const int ContextSamples = 64;
    internal const int StateSize = 2 * 1 * 128;

    internal readonly InferenceSession Session;
    internal readonly string[] InputNames = ["input", "state", "sr"];
    internal readonly string[] OutputNames = ["output", "stateN"];

    public SileroVadModel(string? modelPath = null)
    {
        var path = modelPath ?? ModelAssets.Require(AssetPath);
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        Session = new InferenceSession(path, options);
        foreach (var name in InputNames)
            if (!Session.InputMetadata.ContainsKey(name))
                throw new InvalidDataException($"{path} is not Silero VAD v5: no input '{name}'");
    }

    /// <summary>Frame length in samples at 16 kHz (32 ms).</summary>
    public static int FrameLength => FrameSamples;

    public static TimeSpan FrameDuration => TimeSpan.FromMilliseconds(32);

    public SileroVadStream CreateStream() => new(this);

    public void Dispose() => Session.Dispose();
}

/// <summary>One audio stream's VAD: carries the model state and the 64-sample context across 512-sample frames.</summary>
public sealed class SileroVadStream : IDisposable
{
    private readonly SileroVadModel _model;
    private readonly float[] _input = new float[SileroVadModel.ContextSamples + SileroVadModel.FrameSamples];
    private readonly float[] _state = new float[SileroVadModel.StateSize];
    private readonly float[] _stateOut = new float[SileroVadModel.StateSize];
    private readonly float[] _output = new float[1];
    private readonly long[] _rate = [SileroVadModel.SampleRate];
    private readonly OrtValue[] _inputs;
    private readonly OrtValue[] _outputs;
    private readonly RunOptions _run = new();
    private bool _disposed;

    internal SileroVadStream(SileroVadModel model)
    {
        _model = model;
        _inputs =
        [
            OrtValue.CreateTensorValueFromMemory(_input, [1, _input.Length]),
            OrtValue.CreateTensorValueFromMemory(_state, [2, 1, 128]),
            OrtValue.CreateTensorValueFromMemory(_rate, []),
        ];
        _outputs =
        [
            OrtValue.CreateTensorValueFromMemory(_output, [1, 1]),
            OrtValue.CreateTensorValueFromMemory(_stateOut, [2, 1, 128]),
        ];
    }

    /// <summary>Speech probability of one 512-sample frame at 16 kHz; a frame of another length returns 0.</summary>
    public float Process(ReadOnlySpan<short> frame)
    {
        if (_disposed || frame.Length != SileroVadModel.FrameSamples) return 0f;
        const int c = SileroVadModel.ContextSamples;
        // Keep the previous frame's last 64 samples in front of the new 512.
        Array.Copy(_input, _input.Length - c, _input, 0, c);
        for (var i = 0; i < frame.Length; i++) _input[c + i] = frame[i] / 32768f;
        _model.Session.Run(_run, _model.InputNames, _inputs, _model.OutputNames, _outputs);
        _stateOut.CopyTo(_state, 0);
        var p = _output[0];
        return float.IsFinite(p) ? Math.Clamp(p, 0f, 1f) : 0f;
    }

    public void Reset()
    {
        Array.Clear(_input);
        Array.Clear(_state);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var v in _inputs) v.Dispose();
        foreach (var v in _outputs) v.Dispose();
        _run.Dispose();
    }
}
