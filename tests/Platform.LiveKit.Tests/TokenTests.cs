using System.Text;
using Microsoft.Extensions.Time.Testing;
using Platform.LiveKit.Tokens;

namespace Platform.LiveKit.Tests;

/// <summary>Our issuer and verifier on their own (the SDK contract is in <see cref="TokenContractTests"/>).</summary>
public sealed class TokenTests
{
    private static readonly LiveKitOptions Options = new() { ApiKey = "key", ApiSecret = "secret-secret-secret-secret-secret", MaxTokenLifetime = TimeSpan.FromHours(2) };
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, 500, TimeSpan.Zero));

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(2 * 3600 + 1)]
    public void Lifetimes_outside_the_bound_are_refused(int seconds)
    {
        var issuer = new LiveKitTokenIssuer(Options, _time);
        Assert.Throws<ArgumentOutOfRangeException>(() => issuer.CreateUserToken("r", "u", "U", TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public void Exp_never_exceeds_the_requested_lifetime()
    {
        // now = 12:00:00.500; a 90.2 s lifetime ends at 12:01:30.700 → exp 12:01:30, nbf 12:00:00.
        var token = new LiveKitTokenIssuer(Options, _time).CreateUserToken("r", "u", "U", TimeSpan.FromSeconds(90.2));
        var verified = new LiveKitTokenVerifier(Options, _time).Verify(token);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero), verified.NotBefore);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 12, 1, 30, TimeSpan.Zero), verified.ExpiresAt);
    }

    [Fact]
    public void Lifetime_is_bounded_by_the_conversation_deadline()
    {
        var issuer = new LiveKitTokenIssuer(Options, _time);
        var deadline = _time.GetUtcNow() + TimeSpan.FromMinutes(3);
        Assert.Equal(TimeSpan.FromMinutes(1), issuer.LifetimeUntil(deadline, TimeSpan.FromMinutes(1)));
        Assert.Equal(TimeSpan.FromMinutes(3), issuer.LifetimeUntil(deadline, TimeSpan.FromHours(1)));

        var token = issuer.CreateUserToken("r", "u", "U", issuer.LifetimeUntil(deadline, TimeSpan.FromHours(1)));
        Assert.True(new LiveKitTokenVerifier(Options, _time).Verify(token).ExpiresAt <= deadline);

        _time.Advance(TimeSpan.FromMinutes(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => issuer.LifetimeUntil(deadline, TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void Joining_needs_an_identity_and_admin_tokens_cannot_join()
    {
        var issuer = new LiveKitTokenIssuer(Options, _time);
        Assert.Throws<ArgumentException>(() => issuer.CreateUserToken("r", " ", "U", TimeSpan.FromMinutes(1)));
        Assert.Throws<ArgumentException>(() => issuer.CreateToken(new TokenGrants { Video = new VideoGrant { RoomJoin = true, Room = "r" } }, TimeSpan.FromMinutes(1)));
        Assert.Throws<ArgumentException>(() => issuer.CreateAdminToken(new VideoGrant { RoomJoin = true, Room = "r" }));
    }

    [Fact]
    public void Admin_tokens_use_the_configured_short_lifetime()
    {
        var options = new LiveKitOptions { ApiKey = "key", ApiSecret = Options.ApiSecret, AdminTokenLifetime = TimeSpan.FromMinutes(3) };
        var verified = new LiveKitTokenVerifier(options, _time).Verify(new LiveKitTokenIssuer(options, _time).CreateAdminToken(VideoGrant.ForRoomList()));
        Assert.Equal(TimeSpan.FromMinutes(3), verified.ExpiresAt - verified.NotBefore);
        Assert.Equal(VideoGrant.ForRoomList(), verified.Grants.Video);
    }

    [Fact]
    public void Time_window_is_checked_with_the_clock_tolerance()
    {
        var token = new LiveKitTokenIssuer(Options, _time).CreateUserToken("r", "u", "U", TimeSpan.FromSeconds(60));
        var early = new FakeTimeProvider(_time.GetUtcNow() - TimeSpan.FromSeconds(11));
        Assert.False(new LiveKitTokenVerifier(Options, early).TryVerify(token, out _, out var r));
        Assert.Equal(TokenRejection.NotYetValid, r);

        _time.Advance(TimeSpan.FromSeconds(60 + 9)); // exp + 9.5 s: inside the 10 s tolerance
        Assert.True(new LiveKitTokenVerifier(Options, _time).TryVerify(token, out _, out _));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(new LiveKitTokenVerifier(Options, _time).TryVerify(token, out _, out r));
        Assert.Equal(TokenRejection.Expired, r);
    }

    [Fact]
    public void Tampered_unsigned_and_unexpiring_tokens_are_refused()
    {
        var issuer = new LiveKitTokenIssuer(Options, _time);
        var verifier = new LiveKitTokenVerifier(Options, _time);
        var token = issuer.CreateUserToken("r", "u", "U", TimeSpan.FromMinutes(1));
        var parts = token.Split('.');

        // Same signature, payload with another room.
        var payload = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1])).Replace("\"room\":\"r\"", "\"room\":\"x\"");
        var tampered = $"{parts[0]}.{System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}.{parts[2]}";
        Assert.False(verifier.TryVerify(tampered, out _, out var r));
        Assert.Equal(TokenRejection.BadSignature, r);

        var none = $"{System.Buffers.Text.Base64Url.EncodeToString("{\"alg\":\"none\"}"u8)}.{parts[1]}.";
        Assert.False(verifier.TryVerify(none, out _, out r));
        Assert.Equal(TokenRejection.Malformed, r);
        var hs512 = $"{System.Buffers.Text.Base64Url.EncodeToString("{\"alg\":\"HS512\"}"u8)}.{parts[1]}.{parts[2]}";
        Assert.False(verifier.TryVerify(hs512, out _, out r));
        Assert.Equal(TokenRejection.UnsupportedAlgorithm, r);

        Assert.False(verifier.TryVerify("a.b", out _, out r));
        Assert.Equal(TokenRejection.Malformed, r);

        var noExp = Jwt.Sign("""{"iss":"key","sub":"u"}"""u8, Options.ApiSecret);
        Assert.False(verifier.TryVerify(noExp, out _, out r));
        Assert.Equal(TokenRejection.MissingExpiry, r);
    }

    [Fact]
    public void Empty_claims_are_omitted()
    {
        var token = new LiveKitTokenIssuer(Options, _time).CreateToken(
            new TokenGrants { Identity = "u", Name = "", Metadata = "", Attributes = new Dictionary<string, string>(), Video = new VideoGrant { CanPublishSources = [] } },
            TimeSpan.FromMinutes(1));
        var payload = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token.Split('.')[1]));
        var nbf = _time.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal($$"""{"iss":"key","sub":"u","nbf":{{nbf}},"exp":{{nbf + 60}}}""", payload);
    }
}
