namespace Platform.Render.Face;

/// <summary>Finds the face assets fetched by <c>infra/install.d/30-face.sh</c> into <c>.assets/face/</c>.</summary>
public static class FaceAssets
{
    /// <summary>Overrides the assets folder (the folder that holds <c>face/</c>).</summary>
    public const string AssetsEnvVar = "PLATFORM_ASSETS";

    public const string CanonicalMeshFile = "canonical_face.binarypb";

    public static string CanonicalMeshPath => Path.Combine(FaceFolder(), CanonicalMeshFile);

    public static string FaceFolder()
    {
        var env = Environment.GetEnvironmentVariable(AssetsEnvVar);
        if (!string.IsNullOrEmpty(env))
        {
            return Path.Combine(env, "face");
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
            {
                return Path.Combine(dir.FullName, ".assets", "face");
            }
        }

        throw new DirectoryNotFoundException(
            $"No Platform.sln above {AppContext.BaseDirectory} and {AssetsEnvVar} is not set: cannot find .assets/face (run infra/install.sh).");
    }
}
