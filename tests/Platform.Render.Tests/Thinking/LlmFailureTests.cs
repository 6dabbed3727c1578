using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Platform.Render.Thinking;
using Platform.Testing.OpenAi;
using static Platform.Render.Tests.Thinking.ThinkingTestKit;

namespace Platform.Render.Tests.Thinking;

/// <summary>Every failure of the endpoint ends the turn with an error event and a spoken fallback; nothing throws.</summary>
public sealed class LlmFailureTests
{
    public static TheoryData<string> ScriptedFailures => ["http500", "http429", "http401", "drop", "drop-before-first-token", "malformed"];

    [Theory]
    [MemberData(nameof(ScriptedFailures))]
    public async Task A_failing_endpoint_gives_an_error_event_and_a_fallback_clause(string failure)
    {
        await using var server = await OpenAiChatServer.StartAsync();
        var expected = failure switch
        {
            "http500" => LlmErrorKind.HttpError,
            "http429" => LlmErrorKind.RateLimited,
            "http401" => LlmErrorKind.Unauthorized,
            "drop" => LlmErrorKind.ConnectionLost,
            "malformed" => LlmErrorKind.MalformedResponse,
            _ => LlmErrorKind.ConnectionLost,
        };
        server.Responder = _ => failure switch
        {
            "http500" => ChatScript.HttpError(500),
            "http429" => ChatScript.RateLimited(TimeSpan.FromSeconds(7)),
            "http401" => ChatScript.Unauthorized(),
            "drop" => ChatScript.Reply("Well, I was about to say something. But then").DropAfter(4),
            "malformed" => ChatScript.Reply("Here is an answer that breaks.").MalformedAfter(3),
            _ => ChatScript.Reply("unused").DropAfter(0),
        };
        var options = Options();
        var llm = new LlmConversation(new LlmSettings("m", server.BaseUrl.ToString(), "sk-x"), options, new FakeTimeProvider());

        var events = await CollectAsync(llm.RespondAsync("Hello?", 4, "inf-f"));

        var error = Assert.Single(events.OfType<LlmError>());
        Assert.True(expected == error.Kind, error.Message);
        Assert.Equal(("inf-f", 4), (error.InferenceId, error.TurnIdx));
        Assert.DoesNotContain("sk-x", error.Message);
        var fallback = events.OfType<LlmClause>().Last();
        Assert.True(fallback.IsFallback);
        Assert.Equal(options.FallbackText, fallback.Text);
        Assert.True(events.IndexOf(error) < events.IndexOf(fallback));
        Assert.Equal(LlmTurnOutcome.Failed, events.Ended().Outcome);
        Assert.Single(server.Requests); // no retries inside a real-time turn
        if (failure == "http429")
        {
            Assert.Equal((429, TimeSpan.FromSeconds(7)), (error.HttpStatus, error.RetryAfter));
        }
        else if (failure is "http500" or "http401")
        {
            Assert.Equal(failure == "http500" ? 500 : 401, error.HttpStatus);
        }
    }

    [Fact]
    public async Task An_endpoint_that_is_down_gives_an_error_event_and_a_fallback_clause()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var llm = new LlmConversation(new LlmSettings("m", $"http://127.0.0.1:{port}/v1", "k"), Options(), new FakeTimeProvider());

        var events = await CollectAsync(llm.RespondAsync("Anyone there?", 0));

        Assert.Equal(LlmErrorKind.Unreachable, Assert.Single(events.OfType<LlmError>()).Kind);
        Assert.True(Assert.Single(events.OfType<LlmClause>()).IsFallback);
        Assert.Equal(LlmTurnOutcome.Failed, events.Ended().Outcome);
    }

    [Fact]
    public async Task A_slow_first_token_times_out_on_the_session_clock_and_aborts_the_request()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = _ => ChatScript.Reply("Too late.") with { FirstTokenDelay = TimeSpan.FromHours(1) };
        var time = new FakeTimeProvider();
        var options = Options();
        var llm = new LlmConversation(new LlmSettings("m", server.BaseUrl.ToString(), "k"), options, time);

        var turn = CollectAsync(llm.RespondAsync("Hello?", 0));
        var request = await server.WaitForRequestAsync(0, Deadline);
        time.Advance(options.FirstTokenTimeout);
        var events = await turn;

        Assert.Equal(LlmErrorKind.FirstTokenTimeout, Assert.Single(events.OfType<LlmError>()).Kind);
        Assert.True(Assert.Single(events.OfType<LlmClause>()).IsFallback);
        Assert.Equal(LlmTurnOutcome.Failed, events.Ended().Outcome);
        Assert.Equal(RequestEnd.ClientAborted, await Within(request.Ended, "the server seeing the slow request aborted"));
    }

    [Fact]
    public async Task A_stream_that_stalls_mid_answer_keeps_the_spoken_clause_then_falls_back()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = _ => ChatScript.Reply("Let me think about that one. The answer is probably").StallAfter(8);
        var time = new FakeTimeProvider();
        var options = Options();
        var llm = new LlmConversation(new LlmSettings("m", server.BaseUrl.ToString(), "k"), options, time);

        var firstClause = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var turn = CollectAsync(llm.RespondAsync("What is it?", 0), e =>
        {
            if (e is LlmClause)
            {
                firstClause.TrySetResult(true);
            }
        });
        var request = await server.WaitForRequestAsync(0, Deadline);
        await Within(request.Stalled.ContinueWith(_ => true), "the server stalling");
        await Within(firstClause.Task, "the first clause"); // the session clock only moves once the stream has been read
        await PumpClockUntilAsync(time, turn, options.StallTimeout, "the stall timeout");
        var events = await turn;

        Assert.Equal(LlmErrorKind.Stalled, Assert.Single(events.OfType<LlmError>()).Kind);
        Assert.Equal(["Let me think about that one.", options.FallbackText], events.Clauses());
        Assert.Equal(LlmTurnOutcome.Failed, events.Ended().Outcome);
        Assert.Equal(RequestEnd.ClientAborted, await Within(request.Ended, "the server seeing the stalled request aborted"));
    }

    [Fact]
    public async Task Unusable_settings_give_a_configuration_error_not_an_exception()
    {
        var llm = new LlmConversation(new LlmSettings("gpt-4o", BaseUrl: "not a url"), Options(), new FakeTimeProvider());

        var events = await CollectAsync(llm.RespondAsync("Hi", 0));

        Assert.Equal(LlmErrorKind.Configuration, Assert.Single(events.OfType<LlmError>()).Kind);
        Assert.True(Assert.Single(events.OfType<LlmClause>()).IsFallback);
        Assert.Equal(LlmTurnOutcome.Failed, events.Ended().Outcome);
    }
}
