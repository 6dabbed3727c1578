using System.Numerics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Platform.Render.Face;

/// <summary>
/// Writes the ONNX graph of the warp renderer. Per frame it
/// (1) deforms the head: vertices = neutral + weights · basis (MatMul), projects them orthographically (MatMul);
/// (2) turns the vertices into a dense forward map S over a reference image (the head at <see cref="HeadModel.ReferenceWeights"/>,
///     rasterised once): per texel a Gather of its triangle's three vertices weighted by barycentrics;
/// (3) inverts the map per output pixel p with a few Newton steps r ← r + J(r)⁻¹ (p − S(r)) where S and its Jacobian are
///     read with GridSample; and (4) samples the reference image at r (GridSample), masking pixels that did not converge.
/// </summary>
internal static class FaceWarpGraph
{
    private const int Float = 1;
    private const int Uint8 = 2;
    private const int Int64 = 7;

    public const string WeightsInput = "weights";
    public const string RgbaOutput = "rgba";

    internal sealed record Tables(int Width, int Height, long[] Indices, float[] Bary, float[] Offset, float[] Reference);

    /// <summary>Rasterises the reference pose at <paramref name="refFraming"/> and fills the per-texel tables.</summary>
    public static Tables Rasterise(FaceAsset asset, FaceFraming refFraming, bool colour = true)
    {
        var model = asset.Model;
        int w = refFraming.Width, h = refFraming.Height, n = w * h;
        var pix = model.Reference.Select(refFraming.ToPixel).ToArray();
        var tri = new int[n];
        Array.Fill(tri, -1);
        var zbuf = new float[n];
        Array.Fill(zbuf, float.NegativeInfinity);
        var bary = new float[n * 3];
        var tris = model.Triangles;
        for (var t = 0; t < model.Layers.Length; t++)
        {
            int a = tris[3 * t], b = tris[3 * t + 1], c = tris[3 * t + 2];
            var key = model.Layers[t] == TriangleLayer.Interior
                ? -1000f
                : model.Reference[a].Z + model.Reference[b].Z + model.Reference[c].Z;
            var (pa, pb, pc) = (pix[a], pix[b], pix[c]);
            var area = Edge(pa, pb, pc);
            if (MathF.Abs(area) < 1e-9f)
            {
                continue;
            }

            var x0 = Math.Max(0, (int)MathF.Floor(MathF.Min(pa.X, MathF.Min(pb.X, pc.X))));
            var x1 = Math.Min(w - 1, (int)MathF.Ceiling(MathF.Max(pa.X, MathF.Max(pb.X, pc.X))));
            var y0 = Math.Max(0, (int)MathF.Floor(MathF.Min(pa.Y, MathF.Min(pb.Y, pc.Y))));
            var y1 = Math.Min(h - 1, (int)MathF.Ceiling(MathF.Max(pa.Y, MathF.Max(pb.Y, pc.Y))));
            for (var y = y0; y <= y1; y++)
            {
                for (var x = x0; x <= x1; x++)
                {
                    var p = new Vector2(x + 0.5f, y + 0.5f);
                    var wa = Edge(pb, pc, p) / area;
                    var wb = Edge(pc, pa, p) / area;
                    var wc = 1 - wa - wb;
                    const float eps = -1e-4f;
                    if (wa < eps || wb < eps || wc < eps)
                    {
                        continue;
                    }

                    var i = y * w + x;
                    if (key <= zbuf[i])
                    {
                        continue;
                    }

                    zbuf[i] = key;
                    tri[i] = t;
                    bary[3 * i] = wa;
                    bary[3 * i + 1] = wb;
                    bary[3 * i + 2] = wc;
                }
            }
        }

        // Texels off the head follow their nearest outline or shell vertex rigidly, so the map stays continuous there.
        var anchors = model.OuterLoop.Concat(Enumerable.Range(model.ShellStart, 2 * model.OuterLoop.Length)).ToArray();
        var indices = new long[n * 3];
        var offset = new float[n * 2];
        var reference = colour ? new float[4 * n] : [];
        var atlas = asset.AtlasPixels;
        int aw = asset.Atlas.Width, ah = asset.Atlas.Height;
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var i = y * w + x;
                var t = tri[i];
                if (t >= 0)
                {
                    int a = tris[3 * t], b = tris[3 * t + 1], c = tris[3 * t + 2];
                    indices[3 * i] = a;
                    indices[3 * i + 1] = b;
                    indices[3 * i + 2] = c;
                    if (colour)
                    {
                        var uv = bary[3 * i] * model.Atlas[a] + bary[3 * i + 1] * model.Atlas[b] + bary[3 * i + 2] * model.Atlas[c];
                        Sample(atlas, aw, ah, uv, reference, i, n);
                    }
                    continue;
                }

                var p = new Vector2(x + 0.5f, y + 0.5f);
                var best = anchors[0];
                var bestD = float.MaxValue;
                foreach (var v in anchors)
                {
                    var d = Vector2.DistanceSquared(p, pix[v]);
                    if (d < bestD)
                    {
                        bestD = d;
                        best = v;
                    }
                }

                indices[3 * i] = indices[3 * i + 1] = indices[3 * i + 2] = best;
                bary[3 * i] = 1;
                offset[2 * i] = 2 * (p.X - pix[best].X) / w;
                offset[2 * i + 1] = 2 * (p.Y - pix[best].Y) / h;
            }
        }

        return new Tables(w, h, indices, bary, offset, reference);
    }

    public static byte[] Build(FaceAsset asset, FaceFraming framing, Tables tables, Tables colour, int iterations, bool refine)
    {
        var model = asset.Model;
        var g = new Builder();
        int n = model.VertexCount, k = FaceWeights.Count;
        int wo = framing.Width, ho = framing.Height, wr = tables.Width, hr = tables.Height, m = wr * hr;

        g.Input(WeightsInput, Float, 1, k);

        // (1) deformation and projection to normalised output coordinates.
        var neutral = new float[3 * n];
        for (var i = 0; i < n; i++)
        {
            neutral[3 * i] = model.Neutral[i].X;
            neutral[3 * i + 1] = model.Neutral[i].Y;
            neutral[3 * i + 2] = model.Neutral[i].Z;
        }

        var verts = g.Op("Add", g.Op("MatMul", WeightsInput, g.Const("basis", model.Basis, k, 3 * n)), g.Const("neutral", neutral, 1, 3 * n));
        var v3 = g.Op("Reshape", verts, g.ConstI64("shape_v3", [n, 3], 2));
        var sx = 2 * framing.PixelsPerCm / wo;
        var sy = 2 * framing.PixelsPerCm / ho;
        var proj = g.Const("projection", [sx, 0, 0, -sy, 0, 0], 3, 2);
        var screen = g.Op("Add", g.Op("MatMul", v3, proj), g.Const("projection_offset", [-sx * framing.Centre.X, sy * framing.Centre.Y], 1, 2));

        // (2) dense forward map over the reference image.
        // One Gather per triangle corner keeps everything contiguous (ReduceSum over the corner axis is slow on CPU).
        string? mapped = null;
        for (var corner = 0; corner < 3; corner++)
        {
            var idx = new long[m];
            var w = new float[m];
            for (var i = 0; i < m; i++)
            {
                idx[i] = tables.Indices[3 * i + corner];
                w[i] = tables.Bary[3 * i + corner];
            }

            var term = g.Op("Mul",
                g.Op("Gather", screen, g.ConstI64($"texel_vertex{corner}", idx, m), Builder.Int("axis", 0)),
                g.Const($"texel_bary{corner}", w, m, 1));
            mapped = mapped is null ? term : g.Op("Add", mapped, term);
        }

        mapped = g.Op("Add", mapped!, g.Const("texel_offset", tables.Offset, m, 2));
        var map = g.Op("Transpose", g.Op("Reshape", mapped, g.ConstI64("shape_map", [1, hr, wr, 2], 4)), Builder.Ints("perm", 0, 3, 1, 2));
        var dx = g.Op("Pad",
            g.Op("Sub", Slice(g, map, 3, 1, wr), Slice(g, map, 3, 0, wr - 1)),
            g.ConstI64("pad_x", [0, 0, 0, 0, 0, 0, 0, 1], 8), Builder.Str("mode", "edge"));
        var dy = g.Op("Pad",
            g.Op("Sub", Slice(g, map, 2, 1, hr), Slice(g, map, 2, 0, hr - 1)),
            g.ConstI64("pad_y", [0, 0, 0, 0, 0, 0, 1, 0], 8), Builder.Str("mode", "edge"));
        var field = g.Op("Concat", [map, dx, dy], Builder.Int("axis", 1));

        // (3) Newton inversion per output pixel: coarse (half resolution) first, upsampled, then refined at full size.
        var consts = new NewtonConstants(
            g.Const("det_eps", [1e-6f]), g.Const("one", [1f]), g.Const("minus_one", [-1f]), g.Const("zero", [0f]),
            g.Const("max_step", [0.25f]), g.Const("min_step", [-0.25f]), g.Const("texel_to_u", [2f / wr]), g.Const("texel_to_v", [2f / hr]));
        string pX, pY, r, rGrid;
        var coarse = iterations > 1 && wo % 2 == 0 && ho % 2 == 0 && wo >= 64;
        if (coarse)
        {
            var (cx, cy, cr) = PixelGrid(g, "coarse", wo / 2, ho / 2, nchw: true);
            var rc = Newton(g, field, cx, cy, cr, refine ? iterations - 1 : iterations, consts);
            r = g.Op("Resize", [rc, "", g.Const("upscale", [1f, 1f, 2f, 2f], 4)],
                Builder.Str("mode", "linear"), Builder.Str("coordinate_transformation_mode", "half_pixel"));
            (pX, pY, _) = PixelGrid(g, "pixel", wo, ho, nchw: false);
            r = Newton(g, field, pX, pY, r, refine ? 1 : 0, consts);
        }
        else
        {
            (pX, pY, r) = PixelGrid(g, "pixel", wo, ho, nchw: true);
            r = Newton(g, field, pX, pY, r, iterations, consts);
        }

        rGrid = g.Op("Transpose", r, Builder.Ints("perm", 0, 2, 3, 1));
        var zero = consts.Zero;

        // (4) residual mask and colour.
        var final = g.Op("GridSample", [map, rGrid], 1,
            Builder.Int("align_corners", 0), Builder.Str("mode", "bilinear"), Builder.Str("padding_mode", "border"))[0];
        var finalXY = g.Op("Split", [final], 2, Builder.Int("axis", 1));
        var rx = g.Op("Sub", pX, finalXY[0]);
        var ry = g.Op("Sub", pY, finalXY[1]);
        var res2 = g.Op("Add", g.Op("Mul", rx, rx), g.Op("Mul", ry, ry));
        var tolerance = 2.0f * 2 / wo;
        var mask = g.Op("Cast", g.Op("Less", res2, g.Const("tolerance", [tolerance * tolerance])), Builder.Int("to", Float));
        var reference = g.Const("reference", colour.Reference, 1, 4, colour.Height, colour.Width);
        var sampledColour = g.Op("GridSample", [reference, rGrid], 1,
            Builder.Int("align_corners", 0), Builder.Str("mode", "bilinear"), Builder.Str("padding_mode", "zeros"))[0];
        var masked = g.Op("Mul", sampledColour, mask);
        var bytes = g.Op("Clip",
            g.Op("Add", g.Op("Mul", g.Op("Transpose", masked, Builder.Ints("perm", 0, 2, 3, 1)), g.Const("scale255", [255f])), g.Const("half", [0.5f])),
            zero, g.Const("max255", [255f]));
        g.Node("Cast", [bytes], [RgbaOutput], Builder.Int("to", Uint8));
        g.Output(RgbaOutput, Uint8, 1, ho, wo, 4);
        return g.ToModel().ToByteArray();
    }

    private sealed record NewtonConstants(string Eps, string One, string MinusOne, string Zero, string MaxStep, string MinStep, string ToU, string ToV);

    /// <summary>Normalised pixel-centre coordinates of a grid: x and y planes [1,1,H,W] and both as NCHW [1,2,H,W].</summary>
    private static (string X, string Y, string Nchw) PixelGrid(Builder g, string name, int w, int h, bool nchw)
    {
        var px = new float[h * w];
        var py = new float[h * w];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var i = y * w + x;
                px[i] = (2 * x + 1f) / w - 1;
                py[i] = (2 * y + 1f) / h - 1;
            }
        }

        return (g.Const($"{name}_x", px, 1, 1, h, w), g.Const($"{name}_y", py, 1, 1, h, w),
            nchw ? g.Const($"{name}_nchw", [.. px, .. py], 1, 2, h, w) : "");
    }

    /// <summary>Newton steps r ← r + J⁻¹ (p − S(r)) with S and J = [∂S/∂col ∂S/∂row] read from the field by GridSample.</summary>
    private static string Newton(Builder g, string field, string pX, string pY, string r, int steps, NewtonConstants c)
    {
        for (var it = 0; it < steps; it++)
        {
            var rGrid = g.Op("Transpose", r, Builder.Ints("perm", 0, 2, 3, 1));
            var sampled = g.Op("GridSample", [field, rGrid], 1,
                Builder.Int("align_corners", 0), Builder.Str("mode", "bilinear"), Builder.Str("padding_mode", "border"))[0];
            var s = g.Op("Split", [sampled], 6, Builder.Int("axis", 1));
            var (sX, sY, ax, ay, bx, by) = (s[0], s[1], s[2], s[3], s[4], s[5]);
            var ex = g.Op("Sub", pX, sX);
            var ey = g.Op("Sub", pY, sY);
            var det = g.Op("Sub", g.Op("Mul", ax, by), g.Op("Mul", bx, ay));
            var sign = g.Op("Where", g.Op("Less", det, c.Zero), c.MinusOne, c.One);
            var safe = g.Op("Mul", g.Op("Max", g.Op("Abs", det), c.Eps), sign);
            var dc = g.Op("Div", g.Op("Sub", g.Op("Mul", by, ex), g.Op("Mul", bx, ey)), safe);
            var dr = g.Op("Div", g.Op("Sub", g.Op("Mul", ax, ey), g.Op("Mul", ay, ex)), safe);
            var du = g.Op("Clip", g.Op("Mul", dc, c.ToU), c.MinStep, c.MaxStep);
            var dv = g.Op("Clip", g.Op("Mul", dr, c.ToV), c.MinStep, c.MaxStep);
            r = g.Op("Add", r, g.Op("Concat", [du, dv], Builder.Int("axis", 1)));
        }

        return r;
    }

    private static string Slice(Builder g, string input, int axis, long start, long end) =>
        g.Op("Slice", input, g.ConstI64(null, [start], 1), g.ConstI64(null, [end], 1), g.ConstI64(null, [axis], 1));

    private static float Edge(Vector2 a, Vector2 b, Vector2 p) => (b.X - a.X) * (p.Y - a.Y) - (b.Y - a.Y) * (p.X - a.X);

    private static void Sample(ReadOnlySpan<byte> atlas, int w, int h, Vector2 uv, float[] dest, int texel, int plane)
    {
        var x = Math.Clamp(uv.X - 0.5f, 0, w - 1.001f);
        var y = Math.Clamp(uv.Y - 0.5f, 0, h - 1.001f);
        int x0 = (int)x, y0 = (int)y;
        float fx = x - x0, fy = y - y0;
        for (var ch = 0; ch < 4; ch++)
        {
            var i00 = (y0 * w + x0) * 4 + ch;
            var i10 = i00 + 4;
            var i01 = i00 + w * 4;
            var i11 = i01 + 4;
            var top = atlas[i00] * (1 - fx) + atlas[i10] * fx;
            var bottom = atlas[i01] * (1 - fx) + atlas[i11] * fx;
            dest[ch * plane + texel] = (top * (1 - fy) + bottom * fy) / 255f;
        }
    }

    /// <summary>A small helper over OnnxSharp's protobuf classes.</summary>
    private sealed class Builder
    {
        private readonly GraphProto graph = new() { Name = "platform_face_warp" };
        private int next;

        public void Input(string name, int type, params long[] dims) => graph.Input.Add(Value(name, type, dims));

        public void Output(string name, int type, params long[] dims) => graph.Output.Add(Value(name, type, dims));

        public string Const(string? name, float[] data, params long[] dims)
        {
            var tensor = new TensorProto { Name = name ?? $"c{next++}", DataType = Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())) };
            tensor.Dims.AddRange(dims);
            graph.Initializer.Add(tensor);
            return tensor.Name;
        }

        public string ConstI64(string? name, long[] data, params long[] dims)
        {
            var tensor = new TensorProto { Name = name ?? $"c{next++}", DataType = Int64, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())) };
            tensor.Dims.AddRange(dims);
            graph.Initializer.Add(tensor);
            return tensor.Name;
        }

        public string Op(string op, string a, params AttributeProto[] attributes) => Op(op, [a], 1, attributes)[0];

        public string Op(string op, string a, string b, params AttributeProto[] attributes) => Op(op, [a, b], 1, attributes)[0];

        public string Op(string op, string a, string b, string c, params AttributeProto[] attributes) => Op(op, [a, b, c], 1, attributes)[0];

        public string Op(string op, string a, string b, string c, string d, params AttributeProto[] attributes) => Op(op, [a, b, c, d], 1, attributes)[0];

        public string Op(string op, string[] inputs, params AttributeProto[] attributes) => Op(op, inputs, 1, attributes)[0];

        public string[] Op(string op, string[] inputs, int outputs, params AttributeProto[] attributes)
        {
            var names = Enumerable.Range(0, outputs).Select(_ => $"t{next++}").ToArray();
            Node(op, inputs, names, attributes);
            return names;
        }

        public void Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = $"n{next++}_{op}" };
            node.Input.AddRange(inputs);
            node.Output.AddRange(outputs);
            node.Attribute.AddRange(attributes);
            graph.Node.Add(node);
        }

        public ModelProto ToModel()
        {
            var model = new ModelProto { IrVersion = 8, ProducerName = "Platform.Render", Graph = graph };
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
            return model;
        }

        public static AttributeProto Int(string name, long value) =>
            new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

        public static AttributeProto Ints(string name, params long[] values)
        {
            var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            a.Ints.AddRange(values);
            return a;
        }

        public static AttributeProto Str(string name, string value) =>
            new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

        private static ValueInfoProto Value(string name, int type, long[] dims)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims)
            {
                shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            }

            return new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = type, Shape = shape } },
            };
        }
    }
}
