using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Contracts;

namespace Platform.Api.Pages;

/// <summary>
/// The conversation page's HTML, white-labeled: the tenant's name, logo and colours, and nothing of ours. Every value
/// from a tenant or developer is HTML-encoded; the page's settings travel as a JSON data block (not script) that the
/// page script reads.
/// </summary>
internal static class CallPageHtml
{
    private const string DefaultPrimary = "#2563eb";
    private const string DefaultAccent = "#14b8a6";

    /// <summary>What each <c>shutdown_reason</c> means to the person in the call.</summary>
    public static readonly IReadOnlyDictionary<string, string> ReasonTexts = new Dictionary<string, string>
    {
        [ShutdownReasons.MaxCallDuration] = "The call reached its time limit.",
        [ShutdownReasons.ParticipantLeftTimeout] = "The call ended after everyone left.",
        [ShutdownReasons.ParticipantAbsentTimeout] = "The call ended because nobody joined in time.",
        [ShutdownReasons.EndEndpoint] = "The call was ended by its host.",
        [ShutdownReasons.Deleted] = "The call was closed by its host.",
    };

    public const string DefaultReasonText = "This call is over.";

    public static string ReasonText(string? reason) =>
        reason is not null && ReasonTexts.TryGetValue(reason, out var text) ? text : DefaultReasonText;

    /// <summary>The call page for a valid, authorized link (active or ended).</summary>
    public static string Call(ConversationPage page, string basePath, PageAssets assets, string nonce, IReadOnlyList<string> embedOrigins)
    {
        var ended = page.Status == ConversationStatus.Ended;
        var replica = string.IsNullOrWhiteSpace(page.ReplicaName) ? "Your host" : page.ReplicaName;
        var config = new JsonObject
        {
            ["conversation_id"] = page.Id.Local,
            ["media_path"] = basePath + "/media",
            ["audio_only"] = page.AudioOnly,
            ["captions"] = page.ClosedCaptions,
            ["replica_name"] = replica,
            ["brand_name"] = page.BrandName,
            ["status"] = page.Status,
            ["shutdown_reason"] = page.ShutdownReason,
            ["reasons"] = new JsonObject([.. ReasonTexts.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]),
            ["default_reason"] = DefaultReasonText,
            ["embed_origins"] = new JsonArray([.. embedOrigins.Select(o => (JsonNode)o)]),
            ["worklet_url"] = assets.Url("call-audio.js"),
        };
        if (page.LiveKitUrl is not null)
        {
            // Media through the conversation's LiveKit room: the page asks for its join here, then connects.
            config["livekit_path"] = basePath + "/livekit";
        }
        var title = page.ConversationName is { Length: > 0 } name ? name : replica;
        var b = new StringBuilder(4096);
        Head(b, page.Branding, page.BrandName, title, assets, nonce);
        // The JSON block is data, not script: CSP allows it, and the serializer escapes <, > and & inside it.
        b.Append("<script type=\"application/json\" id=\"call-config\">")
            .Append(config.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Default }))
            .Append("</script>\n");
        if (page.LiveKitUrl is not null)
        {
            b.Append("<script src=\"").Append(assets.Url("livekit-client.js")).Append("\" defer></script>\n");
        }
        b.Append("<script src=\"").Append(assets.Url("call.js")).Append("\" defer></script>\n</head>\n");
        b.Append("<body data-state=\"").Append(ended ? "ended" : "prejoin").Append("\"")
            .Append(page.AudioOnly ? " class=\"audio-only\"" : "").Append(">\n<div class=\"app\">\n");
        Bar(b, page.Branding, page.BrandName);
        b.Append("<main class=\"main\">\n<section class=\"stage\" id=\"stage\" aria-label=\"").Append(E(replica)).Append("\">\n");
        b.Append("<div class=\"tile\" id=\"tile\"><div class=\"avatar\"><span>").Append(E(Initials(replica))).Append("</span></div>")
            .Append("<div class=\"tile-name\">").Append(E(replica)).Append("</div></div>\n");
        if (!page.AudioOnly)
        {
            b.Append("<canvas id=\"video\" class=\"video\" width=\"1280\" height=\"720\" hidden></canvas>\n");
        }
        b.Append("<div class=\"captions\" id=\"captions\" aria-live=\"polite\"></div>\n");
        b.Append("<div class=\"notice\" id=\"notice\" role=\"status\">")
            .Append("<div class=\"avatar notice-avatar\" aria-hidden=\"true\"><span>").Append(E(Initials(replica))).Append("</span></div>");
        if (ended)
        {
            b.Append("<h1 id=\"notice-title\">The call has ended</h1><p id=\"notice-text\">").Append(E(ReasonText(page.ShutdownReason))).Append("</p>")
                .Append("<button id=\"notice-action\" class=\"primary\" hidden></button>");
        }
        else
        {
            b.Append("<h1 id=\"notice-title\">Talk with ").Append(E(replica)).Append("</h1>")
                .Append("<p id=\"notice-text\">You will be asked to allow your microphone.</p>")
                .Append("<button id=\"notice-action\" class=\"primary\" data-action=\"join\">Join</button>");
        }
        b.Append("<noscript><p>This call needs JavaScript.</p></noscript></div>\n");
        b.Append("<div class=\"pill\" id=\"pill\" hidden></div>\n</section>\n");
        b.Append("<nav class=\"controls\" id=\"controls\" aria-label=\"Call controls\">")
            .Append("<button id=\"mute\" class=\"control\" aria-pressed=\"false\"><span class=\"dot\"></span><span id=\"mute-label\">Mute</span></button>")
            .Append("<button id=\"leave\" class=\"control danger\">Leave</button></nav>\n");
        b.Append("</main>\n</div>\n</body>\n</html>\n");
        return b.ToString();
    }

    /// <summary>The page for a conversation with <c>require_auth</c> when the meeting token is missing or wrong.</summary>
    public static string AccessCode(ConversationPage page, PageAssets assets, string nonce, bool wrongToken)
    {
        var b = new StringBuilder(2048);
        Head(b, page.Branding, page.BrandName, "Join the call", assets, nonce);
        b.Append("</head>\n<body data-state=\"auth\">\n<div class=\"app\">\n");
        Bar(b, page.Branding, page.BrandName);
        b.Append("<main class=\"main\"><section class=\"stage\"><div class=\"notice\" role=\"status\">")
            .Append("<h1>Enter your access code</h1>")
            .Append(wrongToken ? "<p class=\"error\">That access code is not valid for this call.</p>" : "<p>This call is private. Enter the access code you were given.</p>")
            .Append("<form method=\"get\" class=\"code-form\"><input name=\"t\" autocomplete=\"off\" aria-label=\"Access code\" required>")
            .Append("<button class=\"primary\" type=\"submit\">Continue</button></form></div></section></main>\n</div>\n</body>\n</html>\n");
        return b.ToString();
    }

    /// <summary>A bad link: neutral (no tenant's branding, since the link names none that we may show).</summary>
    public static string BadLink(PageAssets assets, string nonce)
    {
        var b = new StringBuilder(1024);
        Head(b, new TenantBranding(), "", "Link not valid", assets, nonce);
        b.Append("</head>\n<body data-state=\"bad-link\">\n<div class=\"app\">\n<main class=\"main\"><section class=\"stage\"><div class=\"notice\" role=\"status\">")
            .Append("<h1>This link is not valid</h1><p>Check that you copied the whole link, or ask the person who sent it for a new one.</p>")
            .Append("</div></section></main>\n</div>\n</body>\n</html>\n");
        return b.ToString();
    }

    private static void Head(StringBuilder b, TenantBranding branding, string brandName, string title, PageAssets assets, string nonce)
    {
        var primary = Color(branding.PrimaryColor) ?? DefaultPrimary;
        var accent = Color(branding.AccentColor) ?? DefaultAccent;
        b.Append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<meta name=\"referrer\" content=\"no-referrer\">\n")
            .Append("<title>").Append(E(brandName.Length > 0 ? $"{title} · {brandName}" : title)).Append("</title>\n")
            .Append("<link rel=\"stylesheet\" href=\"").Append(assets.Url("call.css")).Append("\">\n")
            .Append("<style nonce=\"").Append(nonce).Append("\">:root{--primary:").Append(primary)
            .Append(";--on-primary:").Append(OnColor(primary)).Append(";--accent:").Append(accent).Append("}</style>\n");
    }

    private static void Bar(StringBuilder b, TenantBranding branding, string brandName)
    {
        b.Append("<header class=\"bar\">");
        if (LogoUrl(branding) is { } logo)
        {
            b.Append("<img class=\"logo\" src=\"").Append(E(logo)).Append("\" alt=\"\">");
        }
        b.Append("<span class=\"brand\">").Append(E(brandName)).Append("</span></header>\n");
    }

    /// <summary>The logo's URL when it is an absolute http(s) URL, else null.</summary>
    public static string? LogoUrl(TenantBranding branding) =>
        Uri.TryCreate(branding.LogoUrl, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" ? uri.AbsoluteUri : null;

    private static string? Color(string? value) =>
        value is { Length: 7 } && value[0] == '#' && value.Skip(1).All(char.IsAsciiHexDigit) ? value.ToLowerInvariant() : null;

    /// <summary>Black or white, whichever reads better on <paramref name="hex"/> (WCAG relative luminance).</summary>
    private static string OnColor(string hex)
    {
        static double Channel(string h, int i)
        {
            var c = int.Parse(h.AsSpan(1 + 2 * i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) / 255.0;
            return c <= 0.03928 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }
        var l = 0.2126 * Channel(hex, 0) + 0.7152 * Channel(hex, 1) + 0.0722 * Channel(hex, 2);
        return l > 0.4 ? "#111111" : "#ffffff";
    }

    private static string Initials(string name)
    {
        var words = name.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var initials = string.Concat(words.Take(2).Select(w => char.ToUpperInvariant(w[0])));
        return initials.Length > 0 ? initials : "·";
    }

    private static string E(string value) => WebUtility.HtmlEncode(value);
}
