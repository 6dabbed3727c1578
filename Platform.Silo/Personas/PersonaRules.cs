using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.Contracts.Json;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Personas;

/// <summary>
/// The rules a persona document must meet beyond its shape, and the warnings for values we accept but substitute.
/// </summary>
internal static class PersonaRules
{
    /// <summary>Dotted paths of the write-only members (<c>layers.llm.api_key</c>, ...).</summary>
    public static readonly IReadOnlyList<string> SecretPaths = [.. CviSchemas.Persona.SecretPaths()];

    /// <summary>Languages the built-in engines (PocketSphinx, Flite) speak.</summary>
    public static readonly IReadOnlyList<string> BuiltInLanguages = ["english", "en", "en-us"];

    public static List<FieldError> Check(JsonObject doc)
    {
        var errors = new List<FieldError>();
        var mode = Json.Str(doc, "pipeline_mode") ?? "full";
        if (mode == "full" && string.IsNullOrWhiteSpace(Json.Str(doc, "system_prompt")))
        {
            errors.Add(new FieldError("system_prompt", "'system_prompt' is required when pipeline_mode is 'full' (the default)."));
        }
        var layers = Json.Obj(doc, "layers");
        var llm = Json.Obj(layers, "llm");
        if (Json.Str(llm, "base_url") is not null && Json.Str(llm, "model") is null)
        {
            errors.Add(new FieldError("layers.llm.model", "'layers.llm.model' is required when 'layers.llm.base_url' is set."));
        }
        foreach (var (layer, engineField) in new[] { ("tts", "tts_engine"), ("stt", "stt_engine") })
        {
            var obj = Json.Obj(layers, layer);
            if (Json.Str(obj, engineField) == "openai_compatible")
            {
                if (Json.Str(obj, "base_url") is null)
                {
                    errors.Add(new FieldError($"layers.{layer}.base_url", $"'layers.{layer}.base_url' is required when '{engineField}' is 'openai_compatible'."));
                }
                if (Json.Str(obj, "model") is null)
                {
                    errors.Add(new FieldError($"layers.{layer}.model", $"'layers.{layer}.model' is required when '{engineField}' is 'openai_compatible'."));
                }
            }
        }
        return errors;
    }

    public static List<string> Warnings(JsonObject doc)
    {
        var warnings = new List<string>();
        var layers = Json.Obj(doc, "layers");
        var tts = Json.Str(Json.Obj(layers, "tts"), "tts_engine");
        if (tts is not null && CviSchemas.TtsEnginesSubstituted.Contains(tts))
        {
            warnings.Add($"layers.tts.tts_engine: '{tts}' is not run by this platform; the replica speaks with the built-in 'flite' voice instead.");
        }
        var stt = Json.Str(Json.Obj(layers, "stt"), "stt_engine");
        if (stt is not null && CviSchemas.SttEnginesSubstituted.Contains(stt))
        {
            warnings.Add($"layers.stt.stt_engine: '{stt}' is not run by this platform; speech is transcribed by the built-in 'pocketsphinx' engine instead.");
        }
        var perception = Json.Str(Json.Obj(layers, "perception"), "perception_model");
        if (perception is "raven-0" or "basic")
        {
            warnings.Add($"layers.perception.perception_model: '{perception}' is not available on this platform; no visual perception runs.");
        }
        var turn = Json.Str(Json.Obj(layers, "conversational_flow"), "turn_detection_model");
        if (turn is not null)
        {
            warnings.Add($"layers.conversational_flow.turn_detection_model: '{turn}' is not available; the built-in turn-taking rules decide (tuned by turn_taking_patience).");
        }
        if (Json.Obj(layers, "llm") is { } llm && Json.Bool(llm, "speculative_inference") == false)
        {
            warnings.Add("layers.llm.speculative_inference: false is noted, but the engine always starts the LLM speculatively and discards speculation the user talks over.");
        }
        if (Json.Str(doc, "pipeline_mode") is not "echo" && Json.Str(Json.Obj(layers, "llm"), "model") is null)
        {
            warnings.Add("layers.llm.model is not set: the platform's default model, configured by the operator, answers.");
        }
        if (doc["document_ids"] is JsonArray { Count: > 0 } || doc["document_tags"] is JsonArray { Count: > 0 })
        {
            warnings.Add("document_ids/document_tags are stored, but the knowledge base is not available yet: documents are not consulted.");
        }
        return warnings;
    }

    /// <summary>True when the built-in or configured engines of this persona can speak <paramref name="language"/>.</summary>
    public static bool Speaks(JsonObject doc, string language, out string engines)
    {
        var layers = Json.Obj(doc, "layers");
        var stt = Json.Str(Json.Obj(layers, "stt"), "stt_engine") ?? "pocketsphinx";
        var tts = Json.Str(Json.Obj(layers, "tts"), "tts_engine") ?? "flite";
        engines = $"stt '{stt}', tts '{tts}'";
        if (stt == "openai_compatible" && tts == "openai_compatible")
        {
            return true;
        }
        return BuiltInLanguages.Contains(language.ToLowerInvariant());
    }
}
