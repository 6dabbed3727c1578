using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.Render.Face;
using Platform.Render.Perception;
using Platform.Render.Sessions;
using Platform.Render.Speech.OpenAi;
using Platform.Render.Thinking;

namespace Platform.Render.Worker.Media;

/// <summary>
/// What a conversation's documents (conversation, persona, replica look) mean for its session: mode, greeting, LLM,
/// turn-taking, look, voice. Pure: no I/O, so every mapping is testable. Secrets stay in the returned objects and are
/// never put in <see cref="ToString"/>.
/// </summary>
public sealed record SessionSettings(
    SessionOptions Options,
    LlmSettings Llm,
    FaceLook Look,
    string FliteVoice,
    OpenAiSpeechOptions? Tts,
    OpenAiSpeechOptions? Stt,
    string? Greeting,
    bool Captions,
    IReadOnlyList<string> Notices)
{
    public override string ToString() => $"SessionSettings {{ Mode = {Options.Mode}, AudioOnly = {Options.AudioOnly}, Model = {Llm.Model}, Look = {Look.Name} }}";

    /// <summary>Maps a session spec; never throws for content the API accepted (odd values become notices).</summary>
    public static SessionSettings From(SessionSpec spec, int width = 1280, int height = 720, int fps = 30)
    {
        var notices = new List<string>();
        var conversation = JsonNode.Parse(spec.ConversationJson) as JsonObject ?? [];
        var persona = JsonNode.Parse(spec.PersonaJson) as JsonObject ?? [];
        var properties = conversation["properties"] as JsonObject;
        var layers = persona["layers"] as JsonObject;
        var llm = layers?["llm"] as JsonObject;
        var flow = layers?["conversational_flow"] as JsonObject;
        var tts = layers?["tts"] as JsonObject;
        var stt = layers?["stt"] as JsonObject;

        // Avatar mode renders the tenant agent's speech: nothing to think, as in echo mode.
        var echo = spec.IsAvatar || string.Equals(Str(persona, "pipeline_mode"), "echo", StringComparison.OrdinalIgnoreCase);
        var options = new SessionOptions
        {
            Mode = echo ? SessionMode.Echo : SessionMode.Conversation,
            AudioOnly = Bool(conversation, "audio_only"),
            GreenScreen = Bool(properties, "apply_greenscreen"),
            Width = width,
            Height = height,
            FramesPerSecond = fps,
            InputFormat = Audio.AudioFormat.Speech16k,
            TurnTaking = new TurnTakingOptions
            {
                Patience = Level(Str(flow, "turn_taking_patience") ?? Str(stt, "participant_pause_sensitivity"), TurnTakingPatience.Medium,
                    TurnTakingPatience.Low, TurnTakingPatience.Medium, TurnTakingPatience.High),
                Interruptibility = Level(Str(flow, "replica_interruptibility") ?? Str(stt, "participant_interrupt_sensitivity"), ReplicaInterruptibility.Medium,
                    ReplicaInterruptibility.Low, ReplicaInterruptibility.Medium, ReplicaInterruptibility.High),
            },
            Seed = StableSeed(spec.Conversation.Local),
            // A resumed session continues the transcript: the LLM's next request carries the turns from before.
            History = [.. spec.History.Select(l => new PriorMessage(l.Role, l.Content))],
        };

        var model = Str(llm, "model") ?? LlmSettings.RepeatModel;
        var settings = new LlmSettings(
            model,
            BaseUrl: Str(llm, "base_url"),
            ApiKey: Str(llm, "api_key"),
            Headers: Headers(llm?["headers"] as JsonObject),
            ExtraBody: llm?["extra_body"] is JsonObject extra ? JsonSerializer.SerializeToElement(extra) : null,
            Tools: llm?["tools"] is JsonArray tools ? [.. tools.Where(t => t is not null).Select(t => JsonSerializer.SerializeToElement(t))] : null,
            SystemPrompt: Str(persona, "system_prompt"),
            Context: Str(persona, "context"),
            ConversationalContext: Str(conversation, "conversational_context"));
        if (!echo && Str(llm, "model") is null)
        {
            notices.Add($"The persona names no LLM model: the built-in '{LlmSettings.RepeatModel}' answers by repeating what it hears.");
        }

        var look = ToFaceLook(spec.Look, notices);
        return new SessionSettings(options, settings, look, Voice(spec.Look?.Voice), Speech(tts, "voice"), Speech(stt, null),
            Str(conversation, "custom_greeting"), Bool(properties, "enable_closed_captions"), notices);
    }

    /// <summary>A stored look as the renderer's look; unknown values fall back to the first stock look's, with a notice.</summary>
    public static FaceLook ToFaceLook(ReplicaLook? look, List<string>? notices = null)
    {
        var stock = StockLooks.All[0];
        if (look is null)
        {
            return stock;
        }
        var skin = Colour(look.SkinTone, stock.Skin, "skin_tone", notices);
        var hair = Colour(look.HairColor, stock.Hair, "hair_color", notices);
        var eyes = Colour(look.EyeColor, stock.Eyes, "eye_color", notices);
        var background = Colour(look.Background, stock.Background.Top, "background", notices);
        var style = look.HairStyle.ToLowerInvariant() switch
        {
            "long" => HairStyle.Long,
            "short" => HairStyle.Short,
            "bob" => HairStyle.Bob,
            "buzz" => HairStyle.Buzz,
            _ => Enum.TryParse<HairStyle>(look.HairStyle, ignoreCase: true, out var parsed) ? parsed : stock.HairStyle,
        };
        var shape = look.FaceShape.ToLowerInvariant() switch
        {
            "square" => new FaceShape(Width: 1.05f, JawWidth: 1.1f, ChinLength: 1.0f),
            "heart" => new FaceShape(Width: 0.97f, JawWidth: 0.88f, ChinLength: 0.97f),
            "round" => new FaceShape(Width: 1.06f, JawWidth: 1.02f, ChinLength: 0.95f),
            "long" => new FaceShape(Width: 0.94f, JawWidth: 0.95f, ChinLength: 1.08f),
            _ => new FaceShape(Width: 0.98f, JawWidth: 0.95f, ChinLength: 1.0f), // oval
        };
        return new FaceLook("replica", shape, skin, hair, style, eyes,
            Lips: skin.Mix(new Rgb(0xB0, 0x4A, 0x55), 0.55f),
            Clothing: hair.Mix(new Rgb(0x2F, 0x4F, 0x7F), 0.7f),
            FaceBackground.Gradient(background, background.Scale(0.85f)));
    }

    private static Rgb Colour(string value, Rgb fallback, string field, List<string>? notices)
    {
        try
        {
            return Rgb.Parse(value);
        }
        catch (FormatException)
        {
            notices?.Add($"The replica's {field} '{value}' is not a #rrggbb colour; the default is used.");
            return fallback;
        }
    }

    private static string Voice(string? voice) => string.IsNullOrWhiteSpace(voice) ? Render.Speech.Flite.FliteSynthesizer.DefaultVoice : voice;

    /// <summary>An OpenAI-compatible speech endpoint when the layer asks for one, else null (the built-in engine).</summary>
    private static OpenAiSpeechOptions? Speech(JsonObject? layer, string? voiceField)
    {
        var engine = Str(layer, "tts_engine") ?? Str(layer, "stt_engine");
        if (!string.Equals(engine, "openai_compatible", StringComparison.OrdinalIgnoreCase)
            || !Uri.TryCreate(Str(layer, "base_url"), UriKind.Absolute, out var baseUrl))
        {
            return null;
        }
        var options = new OpenAiSpeechOptions { BaseUrl = baseUrl, ApiKey = Str(layer, "api_key"), Model = Str(layer, "model") ?? (voiceField is null ? "whisper-1" : "tts-1") };
        return voiceField is not null && Str(layer, voiceField) is { } voice ? options with { Voice = voice } : options;
    }

    private static IReadOnlyDictionary<string, string>? Headers(JsonObject? headers) =>
        headers is null ? null : headers.Where(h => h.Value is JsonValue).ToDictionary(h => h.Key, h => h.Value!.ToString());

    private static T Level<T>(string? value, T fallback, T low, T medium, T high) => value?.ToLowerInvariant() switch
    {
        "low" => low,
        "medium" => medium,
        "high" => high,
        _ => fallback,
    };

    private static int StableSeed(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked(hash * 31 + c);
        }
        return hash;
    }

    private static string? Str(JsonObject? o, string name) =>
        o?[name] is JsonValue v && v.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s) ? s : null;

    private static bool Bool(JsonObject? o, string name) => o?[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
}
