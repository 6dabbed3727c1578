using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Platform.Render.Face;

/// <summary>
/// CPU mesh renderer with its own scanline rasterizer: the same geometry and painter's order as
/// <see cref="SkiaFaceRenderer"/> (<see cref="FaceMeshProjection"/>), each triangle filled span by span with the atlas
/// mapped affinely (the projection is orthographic), sampled bilinearly in 8-bit fixed point and blended source-over,
/// pixel centres and texel centres as Skia places them, no anti-aliasing. It does in ≈ 1 ms what Skia's general
/// <c>DrawVertices</c> path does in ≈ 5 ms at 512², which is what lets several 720p30 sessions share a core.
/// </summary>
public sealed class RasterFaceRenderer : IFaceRenderer
{
    private readonly FaceAsset asset;
    private readonly FaceMeshProjection projection;
    private readonly uint[] atlas; // padded by one replicated texel on every side
    private readonly int atlasWidth;
    private readonly int atlasHeight;

    public RasterFaceRenderer(FaceAsset asset, FaceFraming framing)
    {
        this.asset = asset;
        Framing = framing;
        projection = new FaceMeshProjection(asset.Model, framing);
        atlasWidth = asset.Atlas.Width;
        atlasHeight = asset.Atlas.Height;
        atlas = Pad(MemoryMarshal.Cast<byte, uint>(asset.AtlasPixels), atlasWidth, atlasHeight);
    }

    public string Backend => "raster";

    public FaceFraming Framing { get; }

    public unsafe void Render(ReadOnlySpan<float> weights, Span<byte> rgba)
    {
        var (w, h) = (Framing.Width, Framing.Height);
        if (rgba.Length < w * h * 4)
        {
            throw new ArgumentException($"The target holds {rgba.Length} bytes; {w}×{h} RGBA needs {w * h * 4}.", nameof(rgba));
        }

        projection.Project(weights);
        var target = MemoryMarshal.Cast<byte, uint>(rgba[..(w * h * 4)]);
        target.Clear();
        var points = projection.Points;
        var uvs = asset.Model.Atlas;
        var tris = asset.Model.Triangles;
        fixed (uint* dst = target)
        fixed (uint* tex = atlas)
        {
            var surface = new Surface(dst, w, h, tex + atlasWidth + 3, atlasWidth, atlasHeight);
            foreach (var t in projection.Order)
            {
                int a = tris[3 * t], b = tris[3 * t + 1], c = tris[3 * t + 2];
                surface.Fill(points[a], points[b], points[c], uvs[a], uvs[b], uvs[c]);
            }
        }
    }

    public void Dispose()
    {
    }

    /// <summary>The texture with a one-texel border copied from its edges, so that the 2×2 neighbourhood of any
    /// coordinate clamped to [−1, size − 1] can be read without further clamping.</summary>
    private static uint[] Pad(ReadOnlySpan<uint> texels, int width, int height)
    {
        var stride = width + 2;
        var padded = new uint[stride * (height + 2)];
        for (var y = -1; y <= height; y++)
        {
            var source = texels.Slice(Math.Clamp(y, 0, height - 1) * width, width);
            var row = padded.AsSpan((y + 1) * stride, stride);
            source.CopyTo(row[1..]);
            row[0] = source[0];
            row[^1] = source[^1];
        }

        return padded;
    }

    /// <summary>A premultiplied RGBA target and texture (one uint per pixel, R in the low byte); <paramref name="tex"/>
    /// points at texel (0, 0) of a texture padded by one texel (row stride <paramref name="texWidth"/> + 2).</summary>
    private readonly unsafe struct Surface(uint* dst, int width, int height, uint* tex, int texWidth, int texHeight)
    {
        private const int Fix = 16; // texture coordinates in 16.16 fixed point

        /// <summary>Fills the triangle (pixel coordinates, y down) with the texture mapped from its texel coordinates.</summary>
        public void Fill(Vector2 p0, Vector2 p1, Vector2 p2, Vector2 t0, Vector2 t1, Vector2 t2)
        {
            // Sort by y: p0 top, p2 bottom.
            if (p1.Y < p0.Y)
            {
                (p0, p1, t0, t1) = (p1, p0, t1, t0);
            }
            if (p2.Y < p1.Y)
            {
                (p1, p2, t1, t2) = (p2, p1, t2, t1);
            }
            if (p1.Y < p0.Y)
            {
                (p0, p1, t0, t1) = (p1, p0, t1, t0);
            }

            var e1 = p1 - p0;
            var e2 = p2 - p0;
            var area = e1.X * e2.Y - e2.X * e1.Y;
            if (MathF.Abs(area) < 1e-6f || !float.IsFinite(area))
            {
                return;
            }

            // The affine map pixel → texel: constant gradients over the triangle.
            var d1 = t1 - t0;
            var d2 = t2 - t0;
            var dx = (d1 * e2.Y - d2 * e1.Y) / area;
            var dy = (d2 * e1.X - d1 * e2.X) / area;

            // Rows whose centre (y + 0.5) lies in [top, bottom).
            var yStart = Math.Max(0, (int)MathF.Ceiling(p0.Y - 0.5f));
            var yEnd = Math.Min(height, (int)MathF.Ceiling(p2.Y - 0.5f));
            var longSlope = (p2.X - p0.X) / (p2.Y - p0.Y);
            var topSlope = p1.Y > p0.Y ? (p1.X - p0.X) / (p1.Y - p0.Y) : 0f;
            var bottomSlope = p2.Y > p1.Y ? (p2.X - p1.X) / (p2.Y - p1.Y) : 0f;
            var duDx = (int)(dx.X * (1 << Fix));
            var dvDx = (int)(dx.Y * (1 << Fix));
            for (var y = yStart; y < yEnd; y++)
            {
                var yc = y + 0.5f;
                var xa = p0.X + (yc - p0.Y) * longSlope;
                var xb = yc < p1.Y ? p0.X + (yc - p0.Y) * topSlope : p1.X + (yc - p1.Y) * bottomSlope;
                if (xb < xa)
                {
                    (xa, xb) = (xb, xa);
                }

                // Pixels whose centre (x + 0.5) lies in [xa, xb).
                var xs = Math.Max(0, (int)MathF.Ceiling(xa - 0.5f));
                var xe = Math.Min(width, (int)MathF.Ceiling(xb - 0.5f));
                if (xe <= xs)
                {
                    continue;
                }

                // Texel coordinate at the first pixel centre, less half a texel: bilinear weights between texel centres.
                var uv = t0 + dx * (xs + 0.5f - p0.X) + dy * (yc - p0.Y) - new Vector2(0.5f);
                Span(dst + y * width, xs, xe, (int)(uv.X * (1 << Fix)), (int)(uv.Y * (1 << Fix)), duDx, dvDx);
            }
        }

        private void Span(uint* row, int xs, int xe, int u, int v, int du, int dv)
        {
            int maxX = texWidth - 1, maxY = texHeight - 1, stride = texWidth + 2;
            for (var x = xs; x < xe; x++, u += du, v += dv)
            {
                int ix = Math.Clamp(u >> Fix, -1, maxX), iy = Math.Clamp(v >> Fix, -1, maxY);
                uint fx = (uint)(u >> (Fix - 8)) & 0xFF, fy = (uint)(v >> (Fix - 8)) & 0xFF;
                var s = Bilinear(tex + iy * stride + ix, stride, fx, fy);
                var alpha = s >> 24;
                if (alpha == 0xFF)
                {
                    row[x] = s;
                }
                else if (alpha != 0)
                {
                    row[x] = s + Scale(row[x], 256 - alpha);
                }
            }
        }

        /// <summary>The 2×2 texels at <paramref name="p"/> weighted by the fractions (0..255): two 8-byte loads, the four
        /// channels of both columns in 16-bit lanes at once.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static uint Bilinear(uint* p, int stride, uint fx, uint fy)
        {
            if (!Vector128.IsHardwareAccelerated)
            {
                return Lerp(Lerp(p[0], p[1], fx), Lerp(p[stride], p[stride + 1], fx), fy);
            }

            var texels = Vector128.Create(*(ulong*)p, *(ulong*)(p + stride)).AsByte();
            var top = Vector128.WidenLower(texels); // (0,0) and (1,0), four channels each
            var bottom = Vector128.WidenUpper(texels); // (0,1) and (1,1)
            var column = Vector128.ShiftRightLogical(top * Vector128.Create((ushort)(256 - fy)) + bottom * Vector128.Create((ushort)fy), 8);
            var right = Vector128.Create(column.AsUInt64().GetElement(1), 0UL).AsUInt16();
            var mixed = Vector128.ShiftRightLogical(column * Vector128.Create((ushort)(256 - fx)) + right * Vector128.Create((ushort)fx), 8);
            return Vector128.Narrow(mixed, mixed).AsUInt32().ToScalar();
        }

        /// <summary>a·(256 − f)/256 + b·f/256 on all four channels at once (f in 0..255).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static uint Lerp(uint a, uint b, uint f)
        {
            var g = 256 - f;
            var rb = ((a & 0x00FF00FF) * g + (b & 0x00FF00FF) * f) >> 8 & 0x00FF00FF;
            var ag = ((a >> 8) & 0x00FF00FF) * g + ((b >> 8) & 0x00FF00FF) * f & 0xFF00FF00;
            return rb | ag;
        }

        /// <summary>c·k/256 on all four channels (k in 1..256).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static uint Scale(uint c, uint k) =>
            ((c & 0x00FF00FF) * k >> 8 & 0x00FF00FF) | (((c >> 8) & 0x00FF00FF) * k & 0xFF00FF00);
    }
}
