using System.Globalization;
using System.Text.Json;

namespace Platform.LiveKit.Ffi.Avatar;

/// <summary>Names and payloads of LiveKit's avatar protocol (the one LiveKit's agent framework speaks to avatar workers).</summary>
public static class AvatarProtocol
{
    /// <summary>Byte streams carrying the agent's speech: raw 16-bit PCM; closing one ends a segment.</summary>
    public const string AudioStreamTopic = "lk.audio_stream";

    public const string SampleRateAttribute = "sample_rate";

    public const string ChannelsAttribute = "num_channels";

    /// <summary>RPC the agent calls on the avatar to interrupt.</summary>
    public const string ClearBufferMethod = "lk.clear_buffer";

    /// <summary>RPCs the avatar calls on the agent.</summary>
    public const string PlaybackStartedMethod = "lk.playback_started";

    public const string PlaybackFinishedMethod = "lk.playback_finished";

    /// <summary>Assumed when a stream names no rate (LiveKit's agent framework always names it; 24 kHz is its usual TTS rate).</summary>
    public const int DefaultSampleRate = 24_000;

    /// <summary><c>{"playback_position": seconds, "interrupted": bool}</c>.</summary>
    public static string PlaybackFinishedPayload(TimeSpan position, bool interrupted) =>
        JsonSerializer.Serialize(new PlaybackFinished(Math.Round(position.TotalSeconds, 3), interrupted), AvatarJson.Default.PlaybackFinished);

    public static bool TryParseInt(IReadOnlyDictionary<string, string> attributes, string name, out int value)
    {
        value = 0;
        return attributes.TryGetValue(name, out var text) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }
}

public sealed record PlaybackFinished(
    [property: System.Text.Json.Serialization.JsonPropertyName("playback_position")] double PlaybackPosition,
    [property: System.Text.Json.Serialization.JsonPropertyName("interrupted")] bool Interrupted);

[System.Text.Json.Serialization.JsonSerializable(typeof(PlaybackFinished))]
internal sealed partial class AvatarJson : System.Text.Json.Serialization.JsonSerializerContext;
