using Microsoft.ML.OnnxRuntime;

namespace Platform.Render.Face;

public sealed class OnnxFaceRendererOptions
{
    /// <summary>Try ONNX Runtime's CUDA provider first (needs the GPU package and a GPU; falls back to CPU).</summary>
    public bool PreferCuda { get; init; } = true;

    /// <summary>Intra-op threads on CPU (0 = ONNX Runtime's default).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Newton steps that invert the warp per pixel.</summary>
    public int Iterations { get; init; } = 4;

    /// <summary>Reference image resolution relative to the output.</summary>
    public float ReferenceScale { get; init; } = 1f;

    /// <summary>Resolution of the deformation map relative to the output (it is piecewise linear, so half is plenty).</summary>
    public float MapScale { get; init; } = 0.5f;

    /// <summary>One last Newton step at full resolution after the half-resolution ones (sharper silhouettes, slower).</summary>
    public bool RefineAtFullResolution { get; init; } = true;
}

/// <summary>
/// Warp renderer: an ONNX graph written by <see cref="FaceWarpGraph"/> deforms the head with the blendshape basis and
/// warps a reference image of the look to the pose, run by ONNX Runtime (CUDA when available, else CPU).
/// </summary>
public sealed class OnnxFaceRenderer : IFaceRenderer
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();
    private readonly float[] weights = new float[FaceWeights.Count];
    private readonly byte[] output;
    private readonly OrtValue weightsValue;
    private readonly OrtValue outputValue;
    private readonly string[] inputNames = [FaceWarpGraph.WeightsInput];
    private readonly string[] outputNames = [FaceWarpGraph.RgbaOutput];

    public OnnxFaceRenderer(FaceAsset asset, FaceFraming framing, OnnxFaceRendererOptions options)
    {
        Framing = framing;
        FaceFraming Scaled(float scale) => framing with
        {
            Width = Math.Max(8, (int)MathF.Round(framing.Width * scale)),
            Height = Math.Max(8, (int)MathF.Round(framing.Height * scale)),
        };
        var colour = FaceWarpGraph.Rasterise(asset, Scaled(options.ReferenceScale));
        var map = options.MapScale == options.ReferenceScale ? colour : FaceWarpGraph.Rasterise(asset, Scaled(options.MapScale), colour: false);
        ModelBytes = FaceWarpGraph.Build(asset, framing, map, colour, options.Iterations, options.RefineAtFullResolution);

        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = options.Threads,
            InterOpNumThreads = 1,
        };
        Backend = "onnx-cpu";
        if (options.PreferCuda)
        {
            try
            {
                sessionOptions.AppendExecutionProvider_CUDA(0);
                Backend = "onnx-cuda";
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                // The CPU package has no CUDA provider, or no GPU/CUDA libraries: stay on CPU.
                CudaError = e.Message;
            }
        }

        session = new InferenceSession(ModelBytes, sessionOptions);
        output = new byte[framing.Width * framing.Height * 4];
        weightsValue = OrtValue.CreateTensorValueFromMemory(weights, [1, FaceWeights.Count]);
        outputValue = OrtValue.CreateTensorValueFromMemory(output, [1, framing.Height, framing.Width, 4]);
    }

    public string Backend { get; }

    /// <summary>Why CUDA was not used, when it was asked for.</summary>
    public string? CudaError { get; }

    public FaceFraming Framing { get; }

    /// <summary>The serialised ONNX model (for inspection or export).</summary>
    public byte[] ModelBytes { get; }

    public void Render(ReadOnlySpan<float> weights, Span<byte> rgba)
    {
        weights[..Math.Min(weights.Length, this.weights.Length)].CopyTo(this.weights);
        session.Run(runOptions, inputNames, [weightsValue], outputNames, [outputValue]);
        output.CopyTo(rgba);
    }

    public void Dispose()
    {
        weightsValue.Dispose();
        outputValue.Dispose();
        runOptions.Dispose();
        session.Dispose();
    }
}
