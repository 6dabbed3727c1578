using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests;

/// <summary>Without a LiveKit section: no rooms, no LiveKit member in answers, no webhook endpoint.</summary>
[Collection(ApiCollection.Name)]
public sealed class EmbeddedTransportTests(ApiFixture fx)
{
    [Fact]
    public async Task Without_LiveKit_conversations_have_no_room_and_webhooks_are_not_found()
    {
        using var t = await fx.NewTenantAsync();
        var body = await t.ConversationAsync(await t.PersonaAsync());
        Assert.Null(body["livekit"]);
        using var anonymous = fx.Anonymous();
        var response = await anonymous.PostAsync("/webhooks/livekit", Body("{}"));
        await Json(response, 404);
    }
}
