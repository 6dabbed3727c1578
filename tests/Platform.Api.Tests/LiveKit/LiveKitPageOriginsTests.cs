extern alias api;
using api::Platform.Api.Pages;

namespace Platform.Api.Tests.LiveKit;

/// <summary>What the page of a conversation on LiveKit may connect to (its CSP connect-src).</summary>
public sealed class LiveKitPageOriginsTests
{
    [Theory]
    [InlineData("wss://media.example.com", "wss://media.example.com https://media.example.com")]
    [InlineData("https://media.example.com/", "wss://media.example.com https://media.example.com")]
    [InlineData("ws://127.0.0.1:7880", "ws://127.0.0.1:7880 http://127.0.0.1:7880")]
    [InlineData("http://localhost:7880/some/path?x=1", "ws://localhost:7880 http://localhost:7880")]
    [InlineData("wss://media.example.com:443", "wss://media.example.com https://media.example.com")]
    public void A_LiveKit_url_opens_its_signalling_socket_and_its_http_side(string url, string expected) =>
        Assert.Equal(expected, string.Join(' ', ConversationPagesApi.LiveKitOrigins(url)));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("media.example.com")]
    [InlineData("ftp://media.example.com")]
    [InlineData("wss://user:pass@media.example.com")]
    public void Anything_else_opens_nothing(string? url) => Assert.Empty(ConversationPagesApi.LiveKitOrigins(url));
}
