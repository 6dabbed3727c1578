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
    public static Tables Rasterise(FaceAsset asset, FaceFraming refFraming)
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
        var reference = new float[4 * n];
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
                    var uv = bary[3 * i] * model.Atlas[a] + bary[3 * i + 1] * model.Atlas[b] + bary[3 * i + 2] * model.Atlas[c];
                    Sample(atlas, aw, ah, uv, reference, i, n);
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

    public static byte[] Build(FaceAsset asset, FaceFraming framing, Tables tables, int iterations)
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
        var gathered = g.Op("Gather", screen, g.ConstI64("texel_vertices", tables.Indices, m * 3), Builder.Int("axis", 0));
        var g3 = g.Op("Reshape", gathered, g.ConstI64("shape_g3", [m, 3, 2], 3));
        var weighted = g.Op("Mul", g3, g.Const("texel_bary", tables.Bary, m, 3, 1));
        var summed = g.Op("ReduceSum", weighted, g.ConstI64("axis1", [1], 1), Builder.Int("keepdims", 0));
        var mapped = g.Op("Add", summed, g.Const("texel_offset", tables.Offset, m, 2));
        var map = g.Op("Transpose", g.Op("Reshape", mapped, g.ConstI64("shape_map", [1, hr, wr, 2], 4)), Builder.Ints("perm", 0, 3, 1, 2));
        var dx = g.Op("Pad",
            g.Op("Sub", Slice(g, map, 3, 1, wr), Slice(g, map, 3, 0, wr - 1)),
            g.ConstI64("pad_x", [0, 0, 0, 0, 0, 0, 0, 1], 8), Builder.Str("mode", "edge"));
        var dy = g.Op("Pad",
            g.Op("Sub", Slice(g, map, 2, 1, hr), Slice(g, map, 2, 0, hr - 1)),
            g.ConstI64("pad_y", [0, 0, 0, 0, 0, 0, 1, 0], 8), Builder.Str("mode", "edge"));
        var field = g.Op("Concat", [map, dx, dy], Builder.Int("axis", 1));

        // (3) Newton inversion per output pixel.
        var grid = new float[ho * wo * 2];
        var px = new float[ho * wo];
        var py = new float[ho * wo];
        for (var y = 0; y < ho; y++)
        {
            for (var x = 0; x < wo; x++)
            {
                var i = y * wo + x;
                px[i] = grid[2 * i] = (2 * x + 1f) / wo - 1;
                py[i] = grid[2 * i + 1] = (2 * y + 1f) / ho - 1;
            }
        }

        var pX = g.Const("pixel_x", px, 1, 1, ho, wo);
        var pY = g.Const("pixel_y", py, 1, 1, ho, wo);
        var r = g.Const("pixel_nchw", [.. px, .. py], 1, 2, ho, wo);
        var rGrid = g.Const("pixel_grid", grid, 1, ho, wo, 2);
        var eps = g.Const("det_eps", [1e-6f]);
        var one = g.Const("one", [1f]);
        var minusOne = g.Const("minus_one", [-1f]);
        var zero = g.Const("zero", [0f]);
        var maxStep = g.Const("max_step", [0.25f]);
        var minStep = g.Const("min_step", [-0.25f]);
        var toU = g.Const("texel_to_u", [2f / wr]);
        var toV = g.Const("texel_to_v", [2f / hr]);
        for (var it = 0; it < iterations; it++)
        {
            var sampled = g.Op("GridSample", [field, rGrid], 1,
                Builder.Int("align_corners", 0), Builder.Str("mode", "bilinear"), Builder.Str("padding_mode", "border"))[0];
            var s = g.Op("Split", [sampled], 6, Builder.Int("axis", 1));
            var (sX, sY, ax, ay, bx, by) = (s[0], s[1], s[2], s[3], s[4], s[5]);
            var ex = g.Op("Sub", pX, sX);
            var ey = g.Op("Sub", pY, sY);
            var det = g.Op("Sub", g.Op("Mul", ax, by), g.Op("Mul", bx, ay));
            var sign = g.Op("Where", g.Op("Less", det, zero), minusOne, one);
            var safe = g.Op("Mul", g.Op("Max", g.Op("Abs", det), eps), sign);
            var dc = g.Op("Div", g.Op("Sub", g.Op("Mul", by, ex), g.Op("Mul", bx, ey)), safe);
            var dr = g.Op("Div", g.Op("Sub", g.Op("Mul", ax, ey), g.Op("Mul", ay, ex)), safe);
            var du = g.Op("Clip", g.Op("Mul", dc, toU), minStep, maxStep);
            var dv = g.Op("Clip", g.Op("Mul", dr, toV), minStep, maxStep);
            r = g.Op("Add", r, g.Op("Concat", [du, dv], Builder.Int("axis", 1)));
            rGrid = g.Op("Transpose", r, Builder.Ints("perm", 0, 2, 3, 1));
        }

        // (4) residual mask and colour.
        var final = g.Op("GridSample", [map, rGrid], 1,
            Builder.Int("align_corners", 0), Builder.Str("mode", "bilinear"), Builder.Str("padding_mode", "border"))[0];
        var residual = g.Op("Sub", g.Op("Concat", [pX, pY], Builder.Int("axis", 1)), final);
        var res2 = g.Op("ReduceSum", g.Op("Mul", residual, residual), g.ConstI64("axis1b", [1], 1), Builder.Int("keepdims", 1));
        var tolerance = 2.0f * 2 / wo;
        var mask = g.Op("Cast", g.Op("Less", res2, g.Const("tolerance", [tolerance * tolerance])), Builder.Int("to", Float));
        var reference = g.Const("reference", tables.Reference, 1, 4, hr, wr);
        var colour = g.Op("GridSample", [reference, rGrid], 1,
            Builder.Int("align_corners", 0), Builder.Str("mode", "bilinear"), Builder.Str("padding_mode", "zeros"))[0];
        var masked = g.Op("Mul", colour, mask);
        var bytes = g.Op("Clip",
            g.Op("Add", g.Op("Mul", g.Op("Transpose", masked, Builder.Ints("perm", 0, 2, 3, 1)), g.Const("scale255", [255f])), g.Const("half", [0.5f])),
            zero, g.Const("max255", [255f]));
        g.Node("Cast", [bytes], [RgbaOutput], Builder.Int("to", Uint8));
        g.Output(RgbaOutput, Uint8, 1, ho, wo, 4);
        return g.ToModel().ToByteArray();
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
