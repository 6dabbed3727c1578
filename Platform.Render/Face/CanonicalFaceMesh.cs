using System.Numerics;

namespace Platform.Render.Face;

/// <summary>
/// MediaPipe's canonical face model (Apache-2.0): 468 vertices in centimetres (x to the viewer's right, y up, z towards
/// the viewer) with texture coordinates, and 898 triangles. Parsed from <c>geometry_pipeline_metadata_landmarks.binarypb</c>
/// (a <c>GeometryPipelineMetadata</c> whose field 1 is a <c>Mesh3d</c>: field 3 = vertex buffer of x,y,z,u,v floats,
/// field 4 = triangle indices).
/// </summary>
public sealed class CanonicalFaceMesh
{
    public const int VertexCount = 468;
    public const int TriangleCount = 898;

    private CanonicalFaceMesh(Vector3[] positions, Vector2[] uvs, int[] triangles)
    {
        Positions = positions;
        Uvs = uvs;
        Triangles = triangles;
    }

    public IReadOnlyList<Vector3> Positions { get; }

    /// <summary>Texture coordinates, u to the right and v downwards, both in [0, 1].</summary>
    public IReadOnlyList<Vector2> Uvs { get; }

    /// <summary>Three vertex indices per triangle.</summary>
    public IReadOnlyList<int> Triangles { get; }

    private static readonly Lazy<CanonicalFaceMesh> Default = new(() => Load(FaceAssets.CanonicalMeshPath));

    public static CanonicalFaceMesh LoadDefault() => Default.Value;

    public static CanonicalFaceMesh Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Canonical face mesh not found at {path}: run infra/install.sh (infra/install.d/30-face.sh).", path);
        }

        return Parse(File.ReadAllBytes(path));
    }

    public static CanonicalFaceMesh Parse(ReadOnlySpan<byte> metadata)
    {
        ReadOnlySpan<byte> mesh = default;
        var found = false;
        var reader = new ProtoReader(metadata);
        while (reader.Next(out var field, out var wire))
        {
            if (field == 1 && wire == 2)
            {
                mesh = reader.ReadBytes();
                found = true;
            }
            else
            {
                reader.Skip(wire);
            }
        }

        if (!found)
        {
            throw new InvalidDataException("Face geometry metadata has no mesh (field 1).");
        }

        var floats = new List<float>(VertexCount * 5);
        var indices = new List<int>(TriangleCount * 3);
        var r = new ProtoReader(mesh);
        while (r.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (3, 5):
                    floats.Add(r.ReadFixedFloat());
                    break;
                case (3, 2):
                    var packedFloats = r.ReadBytes();
                    for (var i = 0; i + 4 <= packedFloats.Length; i += 4)
                    {
                        floats.Add(BitConverter.ToSingle(packedFloats.Slice(i, 4)));
                    }

                    break;
                case (4, 0):
                    indices.Add(checked((int)r.ReadVarint()));
                    break;
                case (4, 2):
                    var packed = new ProtoReader(r.ReadBytes());
                    while (!packed.End)
                    {
                        indices.Add(checked((int)packed.ReadVarint()));
                    }

                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }

        if (floats.Count != VertexCount * 5 || indices.Count != TriangleCount * 3)
        {
            throw new InvalidDataException(
                $"Unexpected canonical face: {floats.Count / 5} vertices and {indices.Count / 3} triangles (want {VertexCount} and {TriangleCount}).");
        }

        var positions = new Vector3[VertexCount];
        var uvs = new Vector2[VertexCount];
        for (var i = 0; i < VertexCount; i++)
        {
            positions[i] = new Vector3(floats[i * 5], floats[i * 5 + 1], floats[i * 5 + 2]);
            uvs[i] = new Vector2(floats[i * 5 + 3], floats[i * 5 + 4]);
        }

        foreach (var index in indices)
        {
            if (index >= VertexCount)
            {
                throw new InvalidDataException($"Triangle index {index} out of range.");
            }
        }

        return new CanonicalFaceMesh(positions, uvs, [.. indices]);
    }

    /// <summary>Just enough of the protobuf wire format to read this file.</summary>
    private ref struct ProtoReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> data = data;
        private int pos;

        public readonly bool End => pos >= data.Length;

        public bool Next(out int field, out int wire)
        {
            if (End)
            {
                field = wire = 0;
                return false;
            }

            var key = ReadVarint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            return true;
        }

        public ulong ReadVarint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (pos >= data.Length)
                {
                    throw new InvalidDataException("Truncated varint.");
                }

                var b = data[pos++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return result;
                }
            }

            throw new InvalidDataException("Varint too long.");
        }

        public float ReadFixedFloat()
        {
            var value = BitConverter.ToSingle(Take(4));
            return value;
        }

        public ReadOnlySpan<byte> ReadBytes() => Take(checked((int)ReadVarint()));

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: ReadVarint(); break;
                case 1: Take(8); break;
                case 2: ReadBytes(); break;
                case 5: Take(4); break;
                default: throw new InvalidDataException($"Unsupported wire type {wire}.");
            }
        }

        private ReadOnlySpan<byte> Take(int n)
        {
            if (pos + n > data.Length)
            {
                throw new InvalidDataException("Truncated field.");
            }

            var s = data.Slice(pos, n);
            pos += n;
            return s;
        }
    }
}

/// <summary>Indices of canonical-mesh landmarks we use (MediaPipe numbering; "left" is the subject's left, x &gt; 0).</summary>
public static class FaceLandmarks
{
    public const int NoseTip = 1;
    public const int Forehead = 10;
    public const int Chin = 152;
    public const int UpperLipInner = 13;
    public const int LowerLipInner = 14;
    public const int MouthCornerRight = 61;
    public const int MouthCornerLeft = 291;
    public const int Subnasale = 2;
    public const int NoseAlaRight = 98;
    public const int NoseAlaLeft = 327;
    public const int CheekRight = 50;
    public const int CheekLeft = 280;

    public static readonly int[] LipsOuterUpper = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291];
    public static readonly int[] LipsOuterLower = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291];
    public static readonly int[] LipsInnerUpper = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308];
    public static readonly int[] LipsInnerLower = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308];

    public static readonly int[] RightEyeUpper = [33, 246, 161, 160, 159, 158, 157, 173, 133];
    public static readonly int[] RightEyeLower = [33, 7, 163, 144, 145, 153, 154, 155, 133];
    public static readonly int[] LeftEyeUpper = [263, 466, 388, 387, 386, 385, 384, 398, 362];
    public static readonly int[] LeftEyeLower = [263, 249, 390, 373, 374, 380, 381, 382, 362];

    public static readonly int[] RightBrowUpper = [70, 63, 105, 66, 107];
    public static readonly int[] RightBrowLower = [46, 53, 52, 65, 55];
    public static readonly int[] LeftBrowUpper = [300, 293, 334, 296, 336];
    public static readonly int[] LeftBrowLower = [276, 283, 282, 295, 285];
}
