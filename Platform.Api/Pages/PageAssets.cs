using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Platform.Api.Pages;

/// <summary>
/// The conversation page's static files (CSS, script, audio worklets), embedded in the assembly and served under
/// <see cref="PathBase"/> with a content hash in the query, so they can be cached for good.
/// </summary>
public sealed class PageAssets
{
    /// <summary>Where the files are served (a path that names nothing but the page).</summary>
    public const string PathBase = "/c/assets";

    private const string ResourcePrefix = "page-assets/";

    private readonly FrozenDictionary<string, Asset> _assets;

    public PageAssets()
    {
        var assembly = typeof(PageAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var bytes = memory.ToArray();
            var file = name[ResourcePrefix.Length..];
            var version = Convert.ToHexStringLower(SHA256.HashData(bytes))[..12];
            assets[file] = new Asset(bytes, ContentType(file), version);
        }
        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>One served file.</summary>
    public sealed record Asset(byte[] Content, string ContentType, string Version);

    /// <summary>The file, or null.</summary>
    public Asset? Find(string file) => _assets.GetValueOrDefault(file);

    /// <summary>The versioned URL of <paramref name="file"/>.</summary>
    public string Url(string file) =>
        $"{PathBase}/{file}?v={(_assets.TryGetValue(file, out var a) ? a.Version : throw new InvalidOperationException($"No page asset '{file}' is embedded."))}";

    private static string ContentType(string file) => Path.GetExtension(file) switch
    {
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
