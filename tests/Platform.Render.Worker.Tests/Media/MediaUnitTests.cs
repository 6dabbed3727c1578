using System.Text;
using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.Render.Perception;
using Platform.Render.Sessions;
using Platform.Render.Worker.Media;

namespace Platform.Render.Worker.Tests.Media;

public sealed class SessionSettingsTests
{
    private static SessionSpec Spec(string conversation, string persona, ReplicaLook? look = null) =>
        new(ConversationId.New(TenantId.New()), conversation, persona, "Anna", look, [], 0, 0);

    [Fact]
    public void A_persona_and_conversation_map_to_the_sessions_settings_without_leaking_the_key()
    {
        var settings = SessionSettings.From(Spec(
            """{"custom_greeting":"Hi!","audio_only":true,"conversational_context":"Ticket 42","properties":{"enable_closed_captions":true,"apply_greenscreen":true}}""",
            """{"system_prompt":"Be kind.","context":"Shop","layers":{"llm":{"model":"m1","base_url":"https://llm.example/v1","api_key":"sk-secret","headers":{"x-a":"1"},"tools":[{"type":"function","function":{"name":"f"}}]},"conversational_flow":{"turn_taking_patience":"high","replica_interruptibility":"low"}}}""",
            StockReplica.All[1].Look));
        Assert.Equal("Hi!", settings.Greeting);
        Assert.True(settings.Options.AudioOnly);
        Assert.True(settings.Options.GreenScreen);
        Assert.True(settings.Captions);
        Assert.Equal(SessionMode.Conversation, settings.Options.Mode);
        Assert.Equal(TurnTakingPatience.High, settings.Options.TurnTaking.Patience);
        Assert.Equal(ReplicaInterruptibility.Low, settings.Options.TurnTaking.Interruptibility);
        Assert.Equal(("m1", "https://llm.example/v1", "sk-secret"), (settings.Llm.Model, settings.Llm.BaseUrl, settings.Llm.ApiKey));
        Assert.Equal("1", settings.Llm.Headers!["x-a"]);
        Assert.Single(settings.Llm.Tools!);
        Assert.Equal("Be kind.\n\nShop\n\nTicket 42", settings.Llm.ComposeSystemMessage());
        Assert.Equal(Face.HairStyle.Short, settings.Look.HairStyle);
        Assert.Equal(Face.Rgb.Parse("#8d5a3b"), settings.Look.Skin);
        Assert.DoesNotContain("sk-secret", settings.ToString(), StringComparison.Ordinal);
        Assert.Empty(settings.Notices);
    }

    [Fact]
    public void Echo_mode_no_model_and_odd_looks_say_what_happens()
    {
        var echo = SessionSettings.From(Spec("{}", """{"pipeline_mode":"echo"}"""));
        Assert.Equal(SessionMode.Echo, echo.Options.Mode);
        Assert.Empty(echo.Notices);

        var repeat = SessionSettings.From(Spec("{}", "{}", new ReplicaLook("oval", "pink", "#000000", "mohawk", "#112233", "#ffffff", "")));
        Assert.Equal(Thinking.LlmSettings.RepeatModel, repeat.Llm.Model);
        Assert.Contains(repeat.Notices, n => n.Contains("platform/repeat", StringComparison.Ordinal));
        Assert.Contains(repeat.Notices, n => n.Contains("skin_tone 'pink'", StringComparison.Ordinal));
        Assert.Equal("slt", repeat.FliteVoice);
    }
}

public sealed class MicrophoneBufferTests
{
    [Fact]
    public void Audio_flows_after_the_jitter_target_underruns_play_silence_and_a_backlog_is_trimmed()
    {
        var buffer = new MicrophoneBuffer(TimeSpan.FromMilliseconds(60), TimeSpan.FromMilliseconds(200));
        var tick = new short[MicrophoneBuffer.TickSamples];
        buffer.Write(Pcm(Enumerable.Repeat((short)1000, 640).ToArray()), 16_000, 1); // 40 ms: below the target
        Assert.False(buffer.Read(tick, out var offset));
        Assert.All(tick, s => Assert.Equal(0, s));
        Assert.Equal(0, offset);
        buffer.Write(Pcm(Enumerable.Repeat((short)1000, 320).ToArray()), 16_000, 1); // 60 ms
        Assert.True(buffer.Read(tick, out offset));
        Assert.All(tick, s => Assert.Equal(1000, s));
        Assert.Equal(MicrophoneBuffer.TickSamples, offset); // the page's audio lands one tick later than it was captured
        Assert.True(buffer.Read(tick));
        Assert.True(buffer.Read(tick));
        Assert.False(buffer.Read(tick)); // empty: an underrun, then it primes again
        Assert.Equal(1, buffer.Underruns);
        Assert.Equal(2 * MicrophoneBuffer.TickSamples, buffer.TimelineOffset);

        buffer.Write(Pcm(new short[16_000]), 16_000, 1); // a 1 s burst
        Assert.Equal(buffer.Target, buffer.Buffered); // trimmed back to the target
        Assert.Equal(16_000 - buffer.Target, buffer.Trimmed);
        Assert.True(buffer.Read(tick, out offset));
        Assert.Equal(2 * MicrophoneBuffer.TickSamples - buffer.Trimmed, offset); // what was trimmed lands that much earlier
    }

    [Fact]
    public void A_burst_under_the_limit_drains_from_quiet_ticks_to_half_a_tick_of_margin_and_the_timeline_says_so()
    {
        var buffer = new MicrophoneBuffer(TimeSpan.FromMilliseconds(60), TimeSpan.FromMilliseconds(300));
        var tick = new short[MicrophoneBuffer.TickSamples];
        var quiet = Pcm(Enumerable.Repeat((short)100, MicrophoneBuffer.TickSamples).ToArray()); // −50 dBFS: room noise
        buffer.Write(Pcm(Enumerable.Repeat((short)100, 3 * MicrophoneBuffer.TickSamples + 3200).ToArray()), 16_000, 1); // 260 ms at once
        var offsets = new List<long>();
        for (var n = 0; n < 3 * MicrophoneBuffer.DrainWindowTicks; n++) // then exactly one tick per tick, for 3 s
        {
            Assert.True(buffer.Read(tick, out var offset));
            offsets.Add(offset);
            buffer.Write(quiet, 16_000, 1);
        }

        // The 220 ms that were never needed are gone (a tick at a time, once the first second has measured them). At its
        // lowest it holds 20 ms: the half tick of margin, rounded up to the whole ticks it drops.
        Assert.Equal(3520, buffer.Drained);
        Assert.Equal(2 * MicrophoneBuffer.TickSamples, buffer.Buffered);
        Assert.True(buffer.Buffered - MicrophoneBuffer.TickSamples >= MicrophoneBuffer.Margin);
        Assert.Equal(0, buffer.Underruns);
        Assert.Equal(0, buffer.Trimmed);
        Assert.Equal(-3520, buffer.TimelineOffset);
        Assert.All(offsets.Take(MicrophoneBuffer.DrainWindowTicks - 1), o => Assert.Equal(0, o)); // nothing owed in the first second
        Assert.Equal(offsets.Order().Reverse(), offsets); // it only ever moves earlier, in whole ticks
        Assert.All(offsets, o => Assert.Equal(0, o % MicrophoneBuffer.TickSamples));
    }

    [Fact]
    public void Slack_is_never_drained_from_speech_and_slack_that_jitter_uses_is_kept()
    {
        var tick = new short[MicrophoneBuffer.TickSamples];
        var speech = Pcm(Enumerable.Range(0, MicrophoneBuffer.TickSamples).Select(i => (short)(i % 2 == 0 ? 3000 : -3000)).ToArray());
        var talking = new MicrophoneBuffer(TimeSpan.FromMilliseconds(60));
        for (var n = 0; n < 12; n++)
        {
            talking.Write(speech, 16_000, 1); // 240 ms of speech at once
        }
        for (var n = 0; n < 3 * MicrophoneBuffer.DrainWindowTicks; n++)
        {
            Assert.True(talking.Read(tick));
            talking.Write(speech, 16_000, 1);
        }
        Assert.Equal(0, talking.Drained); // 180 ms owed, but no word is cut to pay it
        Assert.Equal(12 * MicrophoneBuffer.TickSamples, talking.Buffered);

        // Quiet audio in pairs of ticks every other tick: it drains to within a tick of the margin at its lowest, and no further.
        var jittery = new MicrophoneBuffer(TimeSpan.FromMilliseconds(60));
        var pair = Pcm(new short[2 * MicrophoneBuffer.TickSamples]);
        for (var n = 0; n < 3; n++)
        {
            jittery.Write(pair, 16_000, 1); // 120 ms to start with
        }
        for (var n = 0; n < 4 * MicrophoneBuffer.DrainWindowTicks; n++)
        {
            Assert.True(jittery.Read(tick));
            if (n % 2 == 1)
            {
                jittery.Write(pair, 16_000, 1);
            }
        }
        Assert.Equal(0, jittery.Underruns);
        Assert.Equal(3 * MicrophoneBuffer.TickSamples, jittery.Drained); // it held 80 ms at its lowest: 20 ms stay
    }

    [Fact]
    public void Stereo_48k_is_averaged_and_resampled_to_16k_mono()
    {
        var buffer = new MicrophoneBuffer(TimeSpan.FromMilliseconds(20));
        var stereo = new short[48 * 40 * 2]; // 40 ms at 48 kHz stereo
        for (var i = 0; i < stereo.Length; i += 2)
        {
            (stereo[i], stereo[i + 1]) = (2000, 0);
        }
        buffer.Write(Pcm(stereo), 48_000, 2);
        Assert.InRange(buffer.Buffered, 600, 660); // 40 ms at 16 kHz, give or take the filter's edge
        var tick = new short[MicrophoneBuffer.TickSamples];
        Assert.True(buffer.Read(tick));
        Assert.InRange(tick[200], 900, 1100); // the mean of the two channels
    }

    private static byte[] Pcm(short[] samples) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()).ToArray();
}

public sealed class InCallMessagesTests
{
    private static InCallCommand Parse(string json) => InCallMessages.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void The_cvi_interactions_parse_into_commands()
    {
        Assert.Equal(new InCallCommand.Echo("Hi"), Parse("""{"message_type":"conversation","event_type":"conversation.echo","properties":{"text":"Hi"}}"""));
        Assert.Equal(new InCallCommand.Respond("What time is it?"), Parse("""{"event_type":"conversation.respond","properties":{"text":"What time is it?"}}"""));
        Assert.IsType<InCallCommand.Interrupt>(Parse("""{"event_type":"conversation.interrupt"}"""));
        Assert.Equal(new InCallCommand.Context("New", false), Parse("""{"event_type":"conversation.overwrite_llm_context","properties":{"context":"New"}}"""));
        Assert.Equal(new InCallCommand.Context("More", true), Parse("""{"event_type":"conversation.append_llm_context","properties":{"context":"More"}}"""));
        Assert.Equal(new InCallCommand.ToolResult("call_1", "{\"t\":1}"), Parse("""{"event_type":"conversation.tool_result","properties":{"tool_call_id":"call_1","content":{"t":1}}}"""));
        Assert.Equal(new InCallCommand.ToolResult("call_2", "sunny"), Parse("""{"event_type":"conversation.tool_result","properties":{"tool_call_id":"call_2","content":"sunny"}}"""));
        Assert.Equal(new InCallCommand.Playback(TimeSpan.FromSeconds(1.5)), Parse("""{"event_type":"system.playback","properties":{"media_time":1.5}}"""));
        Assert.Equal(new InCallCommand.Playback(TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(0.04), TimeSpan.FromSeconds(0.12)),
            Parse("""{"event_type":"system.playback","properties":{"media_time":1.5,"queued":0.04,"starved":0.12}}"""));
        Assert.Equal(new InCallCommand.Hello(48_000, true, null), Parse("""{"event_type":"system.hello","properties":{"sample_rate":48000,"audio_only":true}}"""));
    }

    [Theory]
    [InlineData("[1,2]", "message.malformed")]
    [InlineData("""{"properties":{}}""", "message.malformed")]
    [InlineData("""{"event_type":"conversation.echo","properties":{"text":""}}""", "message.invalid")]
    [InlineData("""{"event_type":"conversation.echo","properties":{"audio":"AA==","done":true}}""", "message.invalid")]
    [InlineData("""{"event_type":"conversation.echo","properties":{"audio":"not base64!"}}""", "message.invalid")]
    [InlineData("""{"event_type":"conversation.echo","properties":{"audio":"","done":false}}""", "message.invalid")]
    [InlineData("""{"event_type":"conversation.echo","properties":{"audio":"AAAA","sample_rate":4000}}""", "message.invalid")]
    [InlineData("""{"event_type":"conversation.echo","properties":{"audio":"AAAA","sample_rate":"fast"}}""", "message.invalid")]
    [InlineData("""{"event_type":"conversation.echo","properties":{"audio":"AAAA","done":"soon"}}""", "message.invalid")]
    [InlineData("""{"event_type":"conversation.echo","properties":{"modality":"audio","text":"Hi"}}""", "message.invalid")]
    [InlineData("""{"event_type":"conversation.echo","properties":{"modality":"video","text":"Hi"}}""", "message.invalid")]
    [InlineData("""{"event_type":"conversation.tool_result","properties":{"content":"x"}}""", "message.invalid")]
    [InlineData("""{"event_type":"system.playback","properties":{"media_time":-1}}""", "message.invalid")]
    [InlineData("""{"event_type":"system.playback","properties":{"media_time":1,"queued":90}}""", "message.invalid")]
    [InlineData("""{"event_type":"system.playback","properties":{"media_time":1,"starved":-0.5}}""", "message.invalid")]
    [InlineData("""{"event_type":"system.playback","properties":{"media_time":1,"starved":"a lot"}}""", "message.invalid")]
    [InlineData("""{"event_type":"conversation.fly"}""", "message.unknown")]
    public void Bad_messages_name_the_problem(string json, string code)
    {
        var invalid = Assert.IsType<InCallCommand.Invalid>(Parse(json));
        Assert.Equal(code, invalid.Code);
        Assert.False(string.IsNullOrWhiteSpace(invalid.Message));
    }

    [Fact]
    public void An_audio_echo_decodes_its_base64_pcm_with_the_cvi_defaults_and_flags()
    {
        short[] samples = [0, 1, -1, short.MaxValue, short.MinValue, 1234];
        var audio = Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()));
        AssertEchoAudio(samples, 24_000, true, "inf-9",
            Parse($$$"""{"event_type":"conversation.echo","properties":{"modality":"audio","audio":"{{{audio}}}","sample_rate":24000,"inference_id":"inf-9","done":"true"}}"""));
        // Without sample_rate the CVI default (16 kHz); without done the utterance stays open; text beside audio is ignored.
        AssertEchoAudio(samples, InCallMessages.DefaultEchoSampleRate, false, null,
            Parse($$$"""{"event_type":"conversation.echo","properties":{"audio":"{{{audio}}}","text":"ignored"}}"""));
        // 'done' alone (no audio left) ends the utterance.
        AssertEchoAudio([], 16_000, true, "inf-9",
            Parse("""{"event_type":"conversation.echo","properties":{"modality":"audio","audio":"","done":true,"inference_id":"inf-9"}}"""));
        // modality text wins over audio.
        Assert.Equal(new InCallCommand.Echo("Hi"), Parse($$$"""{"event_type":"conversation.echo","properties":{"modality":"text","text":"Hi","audio":"{{{audio}}}"}}"""));
    }

    private static void AssertEchoAudio(short[] pcm, int sampleRate, bool done, string? inferenceId, InCallCommand parsed)
    {
        var echo = Assert.IsType<InCallCommand.EchoAudio>(parsed);
        Assert.Equal(pcm, echo.Pcm);
        Assert.Equal((sampleRate, done, inferenceId), (echo.SampleRate, echo.Done, echo.InferenceId));
    }

    [Fact]
    public void An_audio_echo_over_the_per_message_limit_is_refused_with_the_way_out()
    {
        var audio = Convert.ToBase64String(new byte[InCallMessages.MaxEchoAudioBytes + 2]);
        var invalid = Assert.IsType<InCallCommand.Invalid>(Parse($$$"""{"event_type":"conversation.echo","properties":{"audio":"{{{audio}}}"}}"""));
        Assert.Equal("message.too_large", invalid.Code);
        Assert.Contains("inference_id", invalid.Message, StringComparison.Ordinal);
        var fits = Convert.ToBase64String(new byte[InCallMessages.MaxEchoAudioBytes]);
        Assert.Equal(InCallMessages.MaxEchoAudioBytes / 2, Assert.IsType<InCallCommand.EchoAudio>(Parse($$$"""{"event_type":"conversation.echo","properties":{"audio":"{{{fits}}}"}}""")).Pcm.Length);
    }

    [Fact]
    public void Session_events_become_cvi_messages()
    {
        var (type, props) = InCallMessages.Describe(new SessionEvent(3, Sessions.SessionEventTypes.ReplicaInterrupted, 2, "inf", TimeSpan.FromSeconds(4)) { Text = "I was say", Duration = TimeSpan.FromMilliseconds(1250) });
        Assert.Equal(InCallEventTypes.ReplicaInterrupted, type);
        Assert.Equal("I was say", props["speech"]!.GetValue<string>());
        Assert.Equal(1.25, props["duration"]!.GetValue<double>());
        var envelope = JsonNode.Parse(InCallMessages.Envelope("conversation", type, "c1", props, 9, 2, "inf", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), TimeSpan.FromSeconds(4)))!;
        Assert.Equal(9, envelope["seq"]!.GetValue<long>());
        Assert.Equal("2026-01-02T03:04:05.000Z", envelope["timestamp"]!.GetValue<string>());
        Assert.Equal("c1", envelope["conversation_id"]!.GetValue<string>());
    }
}
