using Platform.Render.Perception;

namespace Platform.Render.Tests.Perception;

/// <summary>One Silero model for the test assembly (sessions are shared in production too).</summary>
public sealed class VadFixture : IDisposable
{
    public SileroVadModel Model { get; } = new();

    public void Dispose() => Model.Dispose();
}

[CollectionDefinition(Name)]
public sealed class VadCollection : ICollectionFixture<VadFixture>
{
    public const string Name = "silero";
}
