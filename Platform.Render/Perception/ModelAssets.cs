namespace Platform.Render.Perception;

/// <summary>
/// Finds files fetched by infra/install.d into the repository's git-ignored <c>.assets/</c> folder: from the
/// <c>PLATFORM_ASSETS</c> environment variable, else by walking up from the app's folder to the one holding
/// Platform.sln.
/// </summary>
public static class ModelAssets
{
    public const string EnvironmentVariable = "PLATFORM_ASSETS";

    public static string? Root
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(fromEnv) && Directory.Exists(fromEnv)) return fromEnv;
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
                {
                    var assets = Path.Combine(dir.FullName, ".assets");
                    return Directory.Exists(assets) ? assets : null;
                }
            }
            return null;
        }
    }

    /// <summary>Full path of <paramref name="relative"/> under the assets root; throws with the fix when missing.</summary>
    public static string Require(string relative)
    {
        var root = Root;
        var path = root is null ? null : Path.Combine(root, relative);
        if (path is null || !File.Exists(path))
            throw new FileNotFoundException(
                $".assets/{relative} not found: run infra/install.sh (or set {EnvironmentVariable} to the assets folder)", relative);
        return path;
    }
}
