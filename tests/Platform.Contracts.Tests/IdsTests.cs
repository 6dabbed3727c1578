using Platform.Contracts;

namespace Platform.Contracts.Tests;

public sealed class IdsTests
{
    [Fact]
    public void Conversation_key_round_trips_and_carries_the_tenant()
    {
        var tenant = TenantId.New();
        var id = ConversationId.New(tenant);
        Assert.Equal($"{tenant.Value}/{id.Local}", id.ToGrainKey());
        Assert.Equal(id, ConversationId.FromGrainKey(id.ToGrainKey()));
        Assert.True(ConversationId.IsValidLocal(id.Local));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("c")]
    [InlineData("p123")]
    [InlineData("c12/34")]
    [InlineData("C1234")]
    [InlineData("c1234 ")]
    public void Malformed_local_ids_are_refused(string? local) => Assert.False(ConversationId.IsValidLocal(local));

    [Fact]
    public void A_key_without_a_tenant_is_refused() =>
        Assert.Throws<FormatException>(() => PersonaId.FromGrainKey("p123"));
}
