using System.Numerics;

namespace Platform.Render.Face;

/// <summary>Draw order class of a triangle: interior (mouth, eyeballs) first, then the hair shell, then the face.</summary>
public enum TriangleLayer : byte
{
    Interior,
    Shell,
    Face,
}

/// <summary>
/// The renderable head for one look: the canonical face mesh (shaped by <see cref="FaceShape"/>), a two-ring shell around
/// it that carries the hair, fills for the mouth and eye holes (textured as mouth interior and eyeballs), a texture-atlas
/// coordinate per vertex and the blendshape basis (a displacement field per <see cref="Blendshape"/>, derived from
/// landmark regions of the geometry).
/// </summary>
/// <remarks>
/// The atlas is 2T × T: the left square holds the face and hair in MediaPipe UV layout (scaled to leave room for the
/// shell), the right square holds the mouth interior and eyeballs laid out as the reference pose (mouth open) seen from
/// the front.
/// </remarks>
public sealed class HeadModel
{
    /// <summary>Pose whose geometry lays out the interior half of the atlas and the ONNX renderer's reference image.</summary>
    public static readonly float[] ReferenceWeights = FaceWeights.Of((Blendshape.JawOpen, 1f));

    private const float YawDegrees = 25f;
    private const float PitchDegrees = 18f;
    private const float RollDegrees = 15f;

    private HeadModel(int atlasSize)
    {
        AtlasSize = atlasSize;
    }

    public int AtlasSize { get; }

    public int VertexCount => Neutral.Length;

    /// <summary>Neutral vertex positions in centimetres (x right, y up, z towards the viewer).</summary>
    public Vector3[] Neutral { get; private set; } = [];

    /// <summary>Vertex positions at <see cref="ReferenceWeights"/>.</summary>
    public Vector3[] Reference { get; private set; } = [];

    /// <summary>Texture coordinates in atlas pixels (atlas is 2·AtlasSize wide, AtlasSize high).</summary>
    public Vector2[] Atlas { get; private set; } = [];

    public int[] Triangles { get; private set; } = [];

    public TriangleLayer[] Layers { get; private set; } = [];

    /// <summary>Row-major [Blendshape, vertex, xyz] displacements in centimetres.</summary>
    public float[] Basis { get; private set; } = [];

    /// <summary>Per-vertex normals of the neutral face (shell and fills get +z).</summary>
    public Vector3[] Normals { get; private set; } = [];

    public int[] OuterLoop { get; private set; } = [];

    /// <summary>First index of each shell ring (ring r vertex i = ShellStart + r·OuterLoop.Length + i).</summary>
    public int ShellStart { get; private set; }

    public int[] MouthFill { get; private set; } = [];

    public int[] RightEyeFill { get; private set; } = [];

    public int[] LeftEyeFill { get; private set; } = [];

    /// <summary>Canonical triangles that closed the mouth and eyes (removed and replaced by the fills).</summary>
    public int RemovedHoleTriangles { get; private set; }

    /// <summary>Atlas pixels per centimetre of face (both halves).</summary>
    public float AtlasPixelsPerCm { get; private set; }

    /// <param name="hairVolume">How far the hair shell stands off the face (1 = long hair; ~0.5 = a buzz cut).</param>
    public static HeadModel Build(CanonicalFaceMesh mesh, FaceShape shape, int atlasSize = 512, float hairVolume = 1f)
    {
        shape.Validated();
        var model = new HeadModel(atlasSize);
        model.Construct(mesh, shape, Math.Clamp(hairVolume, 0.3f, 1.5f));
        return model;
    }

    /// <summary>Writes the deformed positions for <paramref name="weights"/> into <paramref name="positions"/>.</summary>
    public void Deform(ReadOnlySpan<float> weights, Span<Vector3> positions)
    {
        var n = VertexCount;
        Neutral.AsSpan().CopyTo(positions);
        for (var k = 0; k < FaceWeights.Count && k < weights.Length; k++)
        {
            var w = weights[k];
            if (w == 0f)
            {
                continue;
            }

            var b = Basis.AsSpan(k * n * 3, n * 3);
            for (var i = 0; i < n; i++)
            {
                positions[i] += w * new Vector3(b[i * 3], b[i * 3 + 1], b[i * 3 + 2]);
            }
        }
    }

    private void Construct(CanonicalFaceMesh mesh, FaceShape shape, float hairVolume)
    {
        var faceCount = CanonicalFaceMesh.VertexCount;
        var mouthY = (mesh.Positions[FaceLandmarks.UpperLipInner].Y + mesh.Positions[FaceLandmarks.LowerLipInner].Y) / 2;
        var positions = new List<Vector3>(faceCount + 200);
        foreach (var p in mesh.Positions)
        {
            var x = p.X * shape.Width * (1 + (shape.JawWidth - 1) * Smooth(0f, -9f, p.Y));
            var y = p.Y < mouthY ? mouthY + (p.Y - mouthY) * shape.ChinLength : p.Y;
            positions.Add(new Vector3(x, y, p.Z));
        }

        // The canonical mesh closes the mouth and eyes with thin triangles; we cut them out and fill the holes with our
        // own interior geometry (mouth cavity, eyeballs) so that the lips and lids can part.
        var mouth = Loop(FaceLandmarks.LipsInnerUpper, FaceLandmarks.LipsInnerLower);
        var rightEye = Loop(FaceLandmarks.RightEyeUpper, FaceLandmarks.RightEyeLower);
        var leftEye = Loop(FaceLandmarks.LeftEyeUpper, FaceLandmarks.LeftEyeLower);
        var holes = new[] { mouth.ToHashSet(), rightEye.ToHashSet(), leftEye.ToHashSet() };
        var triangles = new List<int>(mesh.Triangles.Count);
        for (var t = 0; t < mesh.Triangles.Count; t += 3)
        {
            var (a, b, c) = (mesh.Triangles[t], mesh.Triangles[t + 1], mesh.Triangles[t + 2]);
            if (!holes.Any(h => h.Contains(a) && h.Contains(b) && h.Contains(c)))
            {
                triangles.AddRange([a, b, c]);
            }
        }

        RemovedHoleTriangles = (mesh.Triangles.Count - triangles.Count) / 3;
        var layers = Enumerable.Repeat(TriangleLayer.Face, triangles.Count / 3).ToList();
        var outer = BoundaryLoops(mesh.Triangles).OrderByDescending(l => l.Count).First();
        OuterLoop = [.. outer];

        // Shell: two rings outside the outline, pushed back, that carry the hair.
        ShellStart = positions.Count;
        var centre = new Vector2(0, 0.5f);
        float[] offsets = [1.5f * MathF.Sqrt(hairVolume), 3.3f * hairVolume];
        float[] depths = [1.5f, 4.0f];
        for (var ring = 0; ring < 2; ring++)
        {
            foreach (var v in outer)
            {
                var b = positions[v];
                var d = Vector2.Normalize(new Vector2(b.X, b.Y) - centre);
                var off = offsets[ring] * (1 + 0.6f * MathF.Max(0, d.Y));
                positions.Add(new Vector3(b.X + d.X * off, b.Y + d.Y * off, b.Z - depths[ring]));
            }
        }

        var m = outer.Count;
        for (var ring = 0; ring < 2; ring++)
        {
            for (var i = 0; i < m; i++)
            {
                var j = (i + 1) % m;
                var a0 = ring == 0 ? outer[i] : ShellStart + (ring - 1) * m + i;
                var a1 = ring == 0 ? outer[j] : ShellStart + (ring - 1) * m + j;
                var b0 = ShellStart + ring * m + i;
                var b1 = ShellStart + ring * m + j;
                triangles.AddRange([a0, a1, b1, a0, b1, b0]);
                layers.Add(TriangleLayer.Shell);
                layers.Add(TriangleLayer.Shell);
            }
        }

        var shellEnd = positions.Count;

        // Fills: duplicates of the hole loops plus a centre vertex, fanned.
        var sources = new List<int>();
        int[] AddFill(List<int> loop, float depth)
        {
            var start = positions.Count;
            foreach (var v in loop)
            {
                positions.Add(positions[v]);
                sources.Add(v);
            }

            var c = Vector3.Zero;
            foreach (var v in loop)
            {
                c += positions[v];
            }

            c /= loop.Count;
            positions.Add(c - new Vector3(0, 0, depth));
            sources.Add(-1);
            var centreIndex = positions.Count - 1;
            for (var i = 0; i < loop.Count; i++)
            {
                triangles.AddRange([start + i, start + (i + 1) % loop.Count, centreIndex]);
                layers.Add(TriangleLayer.Interior);
            }

            return [.. Enumerable.Range(start, loop.Count + 1)];
        }

        MouthFill = AddFill(mouth, 1.0f);
        RightEyeFill = AddFill(rightEye, 0.25f);
        LeftEyeFill = AddFill(leftEye, 0.25f);

        Neutral = [.. positions];
        Triangles = [.. triangles];
        Layers = [.. layers];

        BuildBasis(mesh, shellEnd, sources, mouthY);
        Reference = new Vector3[VertexCount];
        Deform(ReferenceWeights, Reference);
        BuildNormals(faceCount);
        BuildAtlas(mesh, shellEnd);
    }

    private void BuildBasis(CanonicalFaceMesh mesh, int shellEnd, List<int> fillSources, float mouthY)
    {
        var n = VertexCount;
        Basis = new float[FaceWeights.Count * n * 3];
        var eyes = new[]
        {
            (Shape: Blendshape.BlinkRight, Upper: FaceLandmarks.RightEyeUpper, Lower: FaceLandmarks.RightEyeLower),
            (Shape: Blendshape.BlinkLeft, Upper: FaceLandmarks.LeftEyeUpper, Lower: FaceLandmarks.LeftEyeLower),
        };
        var eyeCurves = eyes.Select(e => (e.Shape,
            Upper: Curve(e.Upper.Select(i => Neutral[i])),
            Lower: Curve(e.Lower.Select(i => Neutral[i])))).ToArray();

        var jaw = Rotation(Vector3.UnitX, 13f, new Vector3(0, -1.0f, -3.5f));
        var yaw = Rotation(Vector3.UnitY, YawDegrees, new Vector3(0, 0, -3f));
        var pitch = Rotation(Vector3.UnitX, PitchDegrees, new Vector3(0, -8f, -2f));
        var roll = Rotation(Vector3.UnitZ, RollDegrees, new Vector3(0, -8f, 0));

        for (var i = 0; i < shellEnd; i++)
        {
            var p = Neutral[i];
            var ax = MathF.Abs(p.X);
            var sx = MathF.Sign(p.X);
            var dyMouth = p.Y - mouthY;
            var front = Smooth(1.5f, 3.0f, p.Z);

            // Jaw: everything below the mouth line rotates about the jaw hinge; the seam widens away from the lips.
            var width = 0.22f + 0.45f * MathF.Max(0, ax - 2.0f);
            var wj = Smooth(-width, width, -dyMouth);
            Set(Blendshape.JawOpen, i, wj * (jaw(p) - p));

            var wl = MathF.Exp(-(Sq(p.X / 2.9f) + Sq(dyMouth / 1.5f))) * front;
            var inner = MathF.Exp(-Sq(dyMouth / 0.5f));
            Set(Blendshape.LipsRound, i, wl * new Vector3(-0.38f * p.X, 0.35f * MathF.Sign(dyMouth) * inner, 0.7f));
            Set(Blendshape.LipsWide, i, wl * new Vector3(0.25f * p.X, -0.25f * dyMouth, -0.15f));
            var wc = MathF.Exp(-(Sq(p.X / 2.5f) + Sq(dyMouth / 0.9f))) * front;
            Set(Blendshape.LipsClosed, i, wc * new Vector3(0, -1.05f * dyMouth, -0.1f));

            var ws = MathF.Exp(-(Sq((ax - 2.4f) / 1.5f) + Sq(dyMouth / 1.2f))) * front;
            var wk = MathF.Exp(-(Sq((ax - 3.6f) / 1.6f) + Sq((p.Y + 1.2f) / 1.3f))) * front;
            Set(Blendshape.Smile, i, new Vector3(sx * 0.4f * ws, 0.5f * ws + 0.35f * wk, 0.25f * wk));

            foreach (var (shape, upper, lower) in eyeCurves)
            {
                var xmin = upper[0].X;
                var xmax = upper[^1].X;
                var outside = MathF.Max(0, MathF.Max(xmin - p.X, p.X - xmax));
                var g = 1 - Smooth(0, 0.7f, outside);
                if (g <= 0)
                {
                    continue;
                }

                var xc = Math.Clamp(p.X, xmin, xmax);
                var yu = Interp(upper, xc);
                var yl = Interp(lower, xc);
                var close = yl + 0.22f * (yu - yl);
                Vector3 d;
                if (p.Y >= yu - 0.02f)
                {
                    var fall = MathF.Exp(-Sq((p.Y - yu) / 0.55f));
                    d = new Vector3(0, (close - yu) * fall, 0.12f * fall);
                }
                else if (p.Y <= yl + 0.02f)
                {
                    var fall = MathF.Exp(-Sq((yl - p.Y) / 0.35f));
                    d = new Vector3(0, (close - yl) * fall, 0);
                }
                else
                {
                    d = new Vector3(0, close - p.Y, 0);
                }

                Set(shape, i, g * d);
            }

            var wb = Smooth(3.2f, 4.4f, p.Y) * MathF.Exp(-Sq(MathF.Max(0, p.Y - 5.6f) / 2.5f))
                * (1 - Smooth(6.0f, 7.5f, ax)) * Smooth(-3f, 1f, p.Z);
            Set(Blendshape.BrowsUp, i, new Vector3(0, 0.65f * wb, 0));
            var wi = wb * MathF.Exp(-Sq((ax - 2.2f) / 2.0f));
            Set(Blendshape.BrowsDown, i, new Vector3(-sx * 0.25f * wi, -0.45f * wi, 0));

            Set(Blendshape.HeadYaw, i, yaw(p) - p);
            Set(Blendshape.HeadPitch, i, pitch(p) - p);
            Set(Blendshape.HeadRoll, i, roll(p) - p);
            Set(Blendshape.Breathing, i, new Vector3(0, 0.3f, 0));
        }

        // Fill vertices copy their source; centres average their loop.
        var loopStart = shellEnd;
        for (var j = 0; j < fillSources.Count; j++)
        {
            var i = shellEnd + j;
            if (fillSources[j] >= 0)
            {
                for (var k = 0; k < FaceWeights.Count; k++)
                {
                    Set((Blendshape)k, i, Get((Blendshape)k, fillSources[j]));
                }
            }
            else
            {
                for (var k = 0; k < FaceWeights.Count; k++)
                {
                    var sum = Vector3.Zero;
                    for (var v = loopStart; v < i; v++)
                    {
                        sum += Get((Blendshape)k, v);
                    }

                    Set((Blendshape)k, i, sum / (i - loopStart));
                }

                loopStart = i + 1;
            }
        }
    }

    private void BuildNormals(int faceCount)
    {
        var normals = new Vector3[VertexCount];
        for (var t = 0; t < Triangles.Length; t += 3)
        {
            if (Layers[t / 3] != TriangleLayer.Face)
            {
                continue;
            }

            var (a, b, c) = (Triangles[t], Triangles[t + 1], Triangles[t + 2]);
            var n = Vector3.Cross(Neutral[b] - Neutral[a], Neutral[c] - Neutral[a]);
            normals[a] += n;
            normals[b] += n;
            normals[c] += n;
        }

        var sumZ = 0f;
        for (var i = 0; i < faceCount; i++)
        {
            sumZ += normals[i].Z;
        }

        var flip = sumZ < 0 ? -1f : 1f;
        for (var i = 0; i < normals.Length; i++)
        {
            normals[i] = i < faceCount && normals[i] != Vector3.Zero ? Vector3.Normalize(normals[i] * flip) : Vector3.UnitZ;
        }

        Normals = normals;
    }

    private void BuildAtlas(CanonicalFaceMesh mesh, int shellEnd)
    {
        var faceCount = CanonicalFaceMesh.VertexCount;

        // Least-squares affine map from canonical (x, y) to MediaPipe (u, v), used to extend the UV layout.
        var (fu, fv) = FitAffine(mesh);
        Vector2 Fit(Vector3 p) => new(fu.X + fu.Y * p.X + fu.Z * p.Y, fv.X + fv.Y * p.X + fv.Z * p.Y);

        var uv = new Vector2[VertexCount];
        for (var i = 0; i < VertexCount; i++)
        {
            uv[i] = i < faceCount ? mesh.Uvs[i] : i < shellEnd ? Fit(Neutral[i]) : Fit(Reference[i]);
        }

        var k = 1f;
        for (var i = 0; i < VertexCount; i++)
        {
            var d = Vector2.Abs(uv[i] - new Vector2(0.5f));
            k = MathF.Min(k, 0.48f / MathF.Max(1e-6f, MathF.Max(d.X, d.Y)));
        }

        var t = AtlasSize;
        Atlas = new Vector2[VertexCount];
        for (var i = 0; i < VertexCount; i++)
        {
            var a = t * (new Vector2(0.5f) + k * (uv[i] - new Vector2(0.5f)));
            Atlas[i] = i < shellEnd ? a : a + new Vector2(t, 0);
        }

        AtlasPixelsPerCm = t * k * MathF.Abs(fu.Y);
    }

    private static (Vector3 U, Vector3 V) FitAffine(CanonicalFaceMesh mesh)
    {
        // Normal equations for [1 x y] · c = target.
        var ata = new double[3, 3];
        var atu = new double[3];
        var atv = new double[3];
        for (var i = 0; i < CanonicalFaceMesh.VertexCount; i++)
        {
            var p = mesh.Positions[i];
            double[] row = [1, p.X, p.Y];
            for (var r = 0; r < 3; r++)
            {
                for (var c = 0; c < 3; c++)
                {
                    ata[r, c] += row[r] * row[c];
                }

                atu[r] += row[r] * mesh.Uvs[i].X;
                atv[r] += row[r] * mesh.Uvs[i].Y;
            }
        }

        var u = Solve3(ata, atu);
        var v = Solve3(ata, atv);
        return (new Vector3((float)u[0], (float)u[1], (float)u[2]), new Vector3((float)v[0], (float)v[1], (float)v[2]));
    }

    private static double[] Solve3(double[,] a, double[] b)
    {
        var m = new double[3, 4];
        for (var r = 0; r < 3; r++)
        {
            for (var c = 0; c < 3; c++)
            {
                m[r, c] = a[r, c];
            }

            m[r, 3] = b[r];
        }

        for (var col = 0; col < 3; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < 3; r++)
            {
                if (Math.Abs(m[r, col]) > Math.Abs(m[pivot, col]))
                {
                    pivot = r;
                }
            }

            for (var c = 0; c < 4; c++)
            {
                (m[col, c], m[pivot, c]) = (m[pivot, c], m[col, c]);
            }

            for (var r = 0; r < 3; r++)
            {
                if (r == col)
                {
                    continue;
                }

                var f = m[r, col] / m[col, col];
                for (var c = col; c < 4; c++)
                {
                    m[r, c] -= f * m[col, c];
                }
            }
        }

        return [m[0, 3] / m[0, 0], m[1, 3] / m[1, 1], m[2, 3] / m[2, 2]];
    }

    private static List<List<int>> BoundaryLoops(IReadOnlyList<int> triangles)
    {
        var edges = new Dictionary<(int, int), int>();
        for (var t = 0; t < triangles.Count; t += 3)
        {
            for (var e = 0; e < 3; e++)
            {
                var a = triangles[t + e];
                var b = triangles[t + (e + 1) % 3];
                var key = a < b ? (a, b) : (b, a);
                edges[key] = edges.GetValueOrDefault(key) + 1;
            }
        }

        var next = new Dictionary<int, List<int>>();
        foreach (var ((a, b), count) in edges)
        {
            if (count != 1)
            {
                continue;
            }

            (next.TryGetValue(a, out var la) ? la : next[a] = []).Add(b);
            (next.TryGetValue(b, out var lb) ? lb : next[b] = []).Add(a);
        }

        var loops = new List<List<int>>();
        var seen = new HashSet<int>();
        foreach (var start in next.Keys.Order())
        {
            if (!seen.Add(start))
            {
                continue;
            }

            var loop = new List<int> { start };
            var prev = start;
            var cur = next[start][0];
            while (cur != start && seen.Add(cur))
            {
                loop.Add(cur);
                var candidates = next[cur];
                var nxt = candidates[0] != prev ? candidates[0] : candidates[^1];
                prev = cur;
                cur = nxt;
            }

            loops.Add(loop);
        }

        return loops;
    }

    private void Set(Blendshape shape, int vertex, Vector3 d)
    {
        var o = ((int)shape * VertexCount + vertex) * 3;
        Basis[o] = d.X;
        Basis[o + 1] = d.Y;
        Basis[o + 2] = d.Z;
    }

    private Vector3 Get(Blendshape shape, int vertex)
    {
        var o = ((int)shape * VertexCount + vertex) * 3;
        return new Vector3(Basis[o], Basis[o + 1], Basis[o + 2]);
    }

    private static Func<Vector3, Vector3> Rotation(Vector3 axis, float degrees, Vector3 pivot)
    {
        var q = Quaternion.CreateFromAxisAngle(axis, degrees * MathF.PI / 180f);
        return p => Vector3.Transform(p - pivot, q) + pivot;
    }

    /// <summary>A closed loop from an upper and a lower contour that share their end points.</summary>
    private static List<int> Loop(int[] upper, int[] lower) => [.. upper, .. lower.Skip(1).SkipLast(1).Reverse()];

    private static Vector3[] Curve(IEnumerable<Vector3> points) => [.. points.OrderBy(p => p.X)];

    private static float Interp(Vector3[] curve, float x)
    {
        for (var i = 1; i < curve.Length; i++)
        {
            if (x <= curve[i].X)
            {
                var a = curve[i - 1];
                var b = curve[i];
                var t = b.X > a.X ? (x - a.X) / (b.X - a.X) : 0;
                return a.Y + (b.Y - a.Y) * t;
            }
        }

        return curve[^1].Y;
    }

    internal static float Smooth(float e0, float e1, float x)
    {
        var t = Math.Clamp((x - e0) / (e1 - e0), 0f, 1f);
        return t * t * (3 - 2 * t);
    }

    private static float Sq(float x) => x * x;
}
