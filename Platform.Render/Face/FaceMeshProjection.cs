using System.Numerics;

namespace Platform.Render.Face;

/// <summary>
/// The geometry both mesh renderers draw: the head deformed by the blendshape weights, projected orthographically into
/// the face region, and its triangles in painter's order (interior fills first, then back to front by depth).
/// </summary>
internal sealed class FaceMeshProjection
{
    private readonly HeadModel model;
    private readonly FaceFraming framing;
    private readonly Vector3[] positions;
    private readonly float[] keys;

    public FaceMeshProjection(HeadModel model, FaceFraming framing)
    {
        this.model = model;
        this.framing = framing;
        positions = new Vector3[model.VertexCount];
        Points = new Vector2[model.VertexCount];
        keys = new float[model.Layers.Length];
        Order = new int[model.Layers.Length];
    }

    /// <summary>Vertex positions in face-region pixels (y down) after the last <see cref="Project"/>.</summary>
    public Vector2[] Points { get; }

    /// <summary>Triangle indices in drawing order after the last <see cref="Project"/>.</summary>
    public int[] Order { get; }

    public void Project(ReadOnlySpan<float> weights)
    {
        model.Deform(weights, positions);
        for (var i = 0; i < positions.Length; i++)
        {
            Points[i] = framing.ToPixel(positions[i]);
        }

        var tris = model.Triangles;
        for (var t = 0; t < keys.Length; t++)
        {
            Order[t] = t;
            keys[t] = model.Layers[t] == TriangleLayer.Interior
                ? -1000f
                : positions[tris[3 * t]].Z + positions[tris[3 * t + 1]].Z + positions[tris[3 * t + 2]].Z;
        }

        Array.Sort(keys, Order);
    }
}
