namespace Platform.Contracts.Json;

/// <summary>
/// The request bodies of the CVI v2 API as shapes. Every field CVI documents is here (accepted and stored, even where we
/// substitute it); fields that are neither CVI's nor ours are refused by name.
/// </summary>
public static class CviSchemas
{
    /// <summary>Three-level settings used across CVI (<c>low</c>, <c>medium</c>, <c>high</c>).</summary>
    public static readonly IReadOnlyList<string> Levels = ["low", "medium", "high"];

    /// <summary>TTS engines we run ourselves.</summary>
    public static readonly IReadOnlyList<string> TtsEnginesRun = ["flite", "openai_compatible"];
    /// <summary>TTS engines CVI documents that we accept, store and substitute with Flite (reported as a warning).</summary>
    public static readonly IReadOnlyList<string> TtsEnginesSubstituted = ["cartesia", "elevenlabs", "azure", "playht", "lmnt"];
    /// <summary>STT engines we run ourselves.</summary>
    public static readonly IReadOnlyList<string> SttEnginesRun = ["pocketsphinx", "openai_compatible"];
    /// <summary>STT engines CVI documents that we accept, store and substitute with PocketSphinx (reported as a warning).</summary>
    public static readonly IReadOnlyList<string> SttEnginesSubstituted = ["tavus-advanced", "tavus-turbo"];

    private static readonly StringShape Url = new(2048) { Rule = UrlRule.Check };
    private static readonly StringShape Name = new(200);
    private static readonly StringShape LongText = new(100_000);
    private static readonly StringShape Text = new(2_000);
    private static readonly StringShape SecretText = new(1_000);
    private static readonly ArrayShape Ids = new(new StringShape(64), 100);
    private static readonly StringShape Level = new(16, Levels);
    private static readonly BoolShape Bool = new();

    private static ObjectShape Obj(params (string Name, Member Member)[] members) =>
        new(members.ToDictionary(m => m.Name, m => m.Member));

    private static Member M(Shape shape, bool required = false) => new(shape, required);

    /// <summary><c>layers.llm</c>.</summary>
    public static readonly ObjectShape Llm = Obj(
        ("model", M(new StringShape(200))),
        ("base_url", M(Url)),
        ("api_key", new Member(SecretText, Secret: true)),
        ("tools", M(new ArrayShape(ObjectShape.Free(16 * 1024), 64))),
        ("headers", M(ObjectShape.Free(8 * 1024))),
        ("extra_body", M(ObjectShape.Free(16 * 1024))),
        ("speculative_inference", M(Bool)));

    /// <summary><c>layers.tts</c>.</summary>
    public static readonly ObjectShape Tts = Obj(
        ("tts_engine", M(new StringShape(32, [.. TtsEnginesRun, .. TtsEnginesSubstituted]))),
        ("base_url", M(Url)),
        ("api_key", new Member(SecretText, Secret: true)),
        ("model", M(new StringShape(200))),
        ("voice", M(new StringShape(200))),
        ("external_voice_id", M(new StringShape(200))),
        ("voice_settings", M(ObjectShape.Free(4 * 1024))),
        ("playht_user_id", M(new StringShape(200))),
        ("tts_emotion_control", M(Bool)),
        ("tts_model_name", M(new StringShape(200))));

    /// <summary><c>layers.stt</c>.</summary>
    public static readonly ObjectShape Stt = Obj(
        ("stt_engine", M(new StringShape(32, [.. SttEnginesRun, .. SttEnginesSubstituted]))),
        ("base_url", M(Url)),
        ("api_key", new Member(SecretText, Secret: true)),
        ("model", M(new StringShape(200))),
        ("hotwords", M(Text)),
        ("participant_pause_sensitivity", M(Level)),
        ("participant_interrupt_sensitivity", M(Level)),
        ("smart_turn_detection", M(Bool)));

    /// <summary><c>layers.perception</c>.</summary>
    public static readonly ObjectShape Perception = Obj(
        ("perception_model", M(new StringShape(32, ["raven-0", "basic", "off"]))),
        ("ambient_awareness_queries", M(new ArrayShape(Text, 20))),
        ("perception_tool_prompt", M(Text)),
        ("perception_tools", M(new ArrayShape(ObjectShape.Free(16 * 1024), 32))));

    /// <summary><c>layers.conversational_flow</c>.</summary>
    public static readonly ObjectShape ConversationalFlow = Obj(
        ("turn_detection_model", M(new StringShape(64))),
        ("turn_taking_patience", M(Level)),
        ("replica_interruptibility", M(Level)));

    /// <summary>The body of <c>POST /v2/personas</c> and the stored persona document.</summary>
    public static readonly ObjectShape Persona = Obj(
        ("persona_name", M(Name)),
        ("system_prompt", M(LongText)),
        ("context", M(LongText)),
        ("default_replica_id", M(new StringShape(64))),
        ("pipeline_mode", M(new StringShape(16, ["full", "echo"]))),
        ("document_ids", M(Ids)),
        ("document_tags", M(Ids)),
        ("layers", M(Obj(
            ("llm", M(Llm)),
            ("tts", M(Tts)),
            ("stt", M(Stt)),
            ("perception", M(Perception)),
            ("conversational_flow", M(ConversationalFlow))))));

    /// <summary>Limits of <c>properties.max_call_duration</c> and the timeouts, in seconds.</summary>
    public const int MaxCallDurationLimit = 4 * 3600;

    /// <summary>The <c>properties</c> object of <c>POST /v2/conversations</c>.</summary>
    public static readonly ObjectShape ConversationProperties = Obj(
        ("max_call_duration", M(new IntShape(10, MaxCallDurationLimit))),
        ("participant_left_timeout", M(new IntShape(0, 3600))),
        ("participant_absent_timeout", M(new IntShape(10, 3600))),
        ("enable_recording", M(Bool)),
        ("enable_closed_captions", M(Bool)),
        ("apply_greenscreen", M(Bool)),
        ("language", M(new StringShape(64))),
        ("recording_s3_bucket_name", M(new StringShape(255))),
        ("recording_s3_bucket_region", M(new StringShape(64))),
        ("aws_assume_role_arn", M(new StringShape(2048))),
        ("livekit_ws_url", M(new StringShape(2048))),
        ("livekit_room_token", M(new StringShape(8192))));

    /// <summary>The body of <c>POST /v2/conversations</c>.</summary>
    public static readonly ObjectShape Conversation = Obj(
        ("replica_id", M(new StringShape(64))),
        ("persona_id", M(new StringShape(64))),
        ("conversation_name", M(Name)),
        ("conversational_context", M(LongText)),
        ("custom_greeting", M(Text)),
        ("callback_url", M(Url)),
        ("audio_only", M(Bool)),
        ("memory_stores", M(Ids)),
        ("document_ids", M(Ids)),
        ("document_retrieval_strategy", M(new StringShape(16, ["speed", "quality", "balanced"]))),
        ("document_tags", M(Ids)),
        ("require_auth", M(Bool)),
        ("test_mode", M(Bool)),
        ("max_participants", M(new IntShape(2, 100))),
        ("properties", M(ConversationProperties)));

    /// <summary>The body of <c>POST /v2/replicas</c>.</summary>
    public static readonly ObjectShape Replica = Obj(
        ("replica_name", M(Name)),
        ("train_video_url", M(Url, required: true)),
        ("consent_video_url", M(Url)),
        ("callback_url", M(Url)),
        ("model_name", M(new StringShape(64))),
        ("properties", M(ObjectShape.Free(4 * 1024))));

    /// <summary>The body of <c>PATCH /v2/replicas/{id}/name</c>.</summary>
    public static readonly ObjectShape ReplicaName = Obj(("replica_name", M(Name, required: true)));
}
