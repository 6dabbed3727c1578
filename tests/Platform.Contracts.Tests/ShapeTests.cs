using System.Text.Json.Nodes;
using Platform.Contracts.Json;

namespace Platform.Contracts.Tests;

public sealed class ShapeTests
{
    private static List<FieldError> Persona(string json) => ShapeValidation.Validate(CviSchemas.Persona, JsonNode.Parse(json));

    [Fact]
    public void A_full_cvi_persona_is_accepted()
    {
        var errors = Persona("""
            {"persona_name":"Coach","system_prompt":"Be kind.","context":"Sales","default_replica_id":"r123","pipeline_mode":"full",
             "document_ids":["d1"],"document_tags":["t"],
             "layers":{"llm":{"model":"gpt-4o","base_url":"https://llm.example/v1","api_key":"sk","tools":[{"type":"function"}],"headers":{"x":"y"},"extra_body":{"temperature":0.2},"speculative_inference":true},
                       "tts":{"tts_engine":"cartesia","external_voice_id":"v","voice_settings":{"speed":1},"tts_emotion_control":true,"tts_model_name":"sonic"},
                       "stt":{"stt_engine":"tavus-advanced","hotwords":"Acme","participant_pause_sensitivity":"high","participant_interrupt_sensitivity":"low","smart_turn_detection":true},
                       "perception":{"perception_model":"raven-0","ambient_awareness_queries":["is the user smiling?"],"perception_tool_prompt":"p","perception_tools":[]},
                       "conversational_flow":{"turn_detection_model":"sparrow-1","turn_taking_patience":"low","replica_interruptibility":"high"}}}
            """);
        Assert.Empty(errors);
    }

    [Fact]
    public void Errors_name_every_offending_field()
    {
        var errors = Persona("""{"persona_name":5,"bogus":1,"layers":{"llm":{"model":["x"],"base_url":"ftp://x"},"conversational_flow":{"turn_taking_patience":"sometimes"}}}""");
        var fields = errors.Select(e => e.Field).Order().ToList();
        Assert.Equal(["bogus", "layers.conversational_flow.turn_taking_patience", "layers.llm.base_url", "layers.llm.model", "persona_name"], fields);
        Assert.Contains(errors, e => e.Message.Contains("'low', 'medium', 'high'"));
        Assert.Contains(errors, e => e.Message.Contains("not a known field"));
    }

    [Theory]
    [InlineData("""{"properties":{"max_call_duration":5}}""", "properties.max_call_duration")]
    [InlineData("""{"properties":{"max_call_duration":1.5}}""", "properties.max_call_duration")]
    [InlineData("""{"audio_only":"yes"}""", "audio_only")]
    [InlineData("""{"memory_stores":[1]}""", "memory_stores[0]")]
    [InlineData("""{"callback_url":"not a url"}""", "callback_url")]
    [InlineData("""[]""", "")]
    public void Conversation_bodies_are_checked(string json, string field) =>
        Assert.Contains(ShapeValidation.Validate(CviSchemas.Conversation, JsonNode.Parse(json)), e => e.Field == field);

    [Fact]
    public void Secret_paths_are_found_in_every_layer() =>
        Assert.Equal(["layers.llm.api_key", "layers.stt.api_key", "layers.tts.api_key"], CviSchemas.Persona.SecretPaths().Order());
}
