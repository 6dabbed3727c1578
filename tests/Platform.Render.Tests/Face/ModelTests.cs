using Platform.Render.Face;

namespace Platform.Render.Tests.Face;

public sealed class ModelTests
{
    [Fact]
    public void Canonical_mesh_has_468_vertices_898_triangles_and_uvs()
    {
        var mesh = CanonicalFaceMesh.LoadDefault();
        Assert.Equal(468, mesh.Positions.Count);
        Assert.Equal(898 * 3, mesh.Triangles.Count);
        Assert.All(mesh.Uvs, uv => Assert.True(uv.X is >= 0 and <= 1 && uv.Y is >= 0 and <= 1));
        Assert.True(mesh.Positions[FaceLandmarks.NoseTip].Z > mesh.Positions[FaceLandmarks.Chin].Z, "nose tip should stick out");
        Assert.True(mesh.Positions[FaceLandmarks.Forehead].Y > mesh.Positions[FaceLandmarks.Chin].Y, "y points up");
    }

    [Fact]
    public void Truncated_metadata_is_rejected()
    {
        var bytes = File.ReadAllBytes(FaceAssets.CanonicalMeshPath);
        Assert.Throws<InvalidDataException>(() => CanonicalFaceMesh.Parse(bytes.AsSpan(0, bytes.Length / 2)));
    }

    [Fact]
    public void Head_model_opens_holes_and_every_blendshape_moves_vertices()
    {
        var model = HeadModel.Build(CanonicalFaceMesh.LoadDefault(), new FaceShape());
        Assert.True(model.RemovedHoleTriangles > 0, "the mouth and eye triangles of the canonical mesh are cut out");
        Assert.Equal(36, model.OuterLoop.Length);
        var n = model.VertexCount;
        for (var k = 0; k < FaceWeights.Count; k++)
        {
            var max = 0f;
            for (var i = 0; i < n * 3; i++)
            {
                max = MathF.Max(max, MathF.Abs(model.Basis[k * n * 3 + i]));
            }

            Assert.True(max > 0.2f, $"{(Blendshape)k} moves nothing (max {max} cm)");
        }

        // Jaw opening separates the inner lips; blinking brings the lids together.
        var open = new System.Numerics.Vector3[n];
        model.Deform(FaceWeights.Of((Blendshape.JawOpen, 1f)), open);
        var gap = open[FaceLandmarks.UpperLipInner].Y - open[FaceLandmarks.LowerLipInner].Y;
        Assert.True(gap > 1.5f, $"jaw open gap {gap} cm");
        model.Deform(FaceWeights.Of((Blendshape.BlinkLeft, 1f)), open);
        var lid = open[386].Y - open[374].Y;
        Assert.True(MathF.Abs(lid) < 0.05f, $"left lids {lid} cm apart when blinking");
        Assert.True(open[159].Y - open[145].Y > 0.5f, "the right eye stays open");
    }

    [Fact]
    public void Looks_round_trip_and_stock_looks_are_distinct()
    {
        Assert.Equal("#1A2B3C", Rgb.Parse("#1a2b3c").ToString());
        Assert.Throws<FormatException>(() => Rgb.Parse("green"));
        Assert.True(StockLooks.All.Count >= 3);
        Assert.Equal(StockLooks.All.Count, StockLooks.All.Select(l => l.Name).Distinct().Count());
        Assert.Equal(StockLooks.All.Count, StockLooks.All.Select(l => (l.Skin, l.Hair, l.HairStyle)).Distinct().Count());
        Assert.Same(StockLooks.Mei, StockLooks.Find("MEI"));
        Assert.Equal(BackgroundKind.GreenScreen, StockLooks.Anna.WithGreenScreen().Background.Kind);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceShape(Width: 2f).Validated());
    }
}
