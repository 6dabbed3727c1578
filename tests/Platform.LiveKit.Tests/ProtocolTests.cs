using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Platform.LiveKit.Rooms;
using Platform.LiveKit.Webhooks;

namespace Platform.LiveKit.Tests;

/// <summary>Protobuf JSON reading and the replay store.</summary>
public sealed class ProtocolTests
{
    [Fact]
    public void Both_field_spellings_numbers_as_strings_or_numbers_and_nulls_are_read()
    {
        using var snake = JsonDocument.Parse("""{"sid":"RM_1","empty_timeout":"30","creation_time":1700000000,"num_participants":2,"version":null,"enabled_codecs":null}""");
        using var camel = JsonDocument.Parse("""{"sid":"RM_1","emptyTimeout":30,"creationTime":"1700000000","numParticipants":"2"}""");
        var a = LiveKitRoom.Read(snake.RootElement);
        var b = LiveKitRoom.Read(camel.RootElement);
        Assert.Equal((30u, 1700000000L, 2u), (a.EmptyTimeoutSeconds, a.CreationTime, a.NumParticipants));
        Assert.Equal((30u, 1700000000L, 2u), (b.EmptyTimeoutSeconds, b.CreationTime, b.NumParticipants));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), a.CreatedAt);
    }

    [Fact]
    public void Enums_are_read_by_name_or_number_and_unknown_values_are_marked()
    {
        using var doc = JsonDocument.Parse("""{"identity":"x","state":2,"kind":"HOLOGRAM","disconnect_reason":"ROOM_DELETED","permission":{"can_publish_sources":["SCREEN_SHARE_AUDIO",1,99]}}""");
        var p = LiveKitParticipant.Read(doc.RootElement);
        Assert.Equal(ParticipantState.Active, p.State);
        Assert.Equal(ParticipantKind.Unrecognized, p.Kind);
        Assert.Equal(DisconnectReason.RoomDeleted, p.DisconnectReason);
        Assert.Equal([TrackSource.ScreenShareAudio, TrackSource.Camera, TrackSource.Unrecognized], p.Permission!.CanPublishSources);
    }

    [Fact]
    public void Wrongly_typed_fields_are_format_errors()
    {
        using var doc = JsonDocument.Parse("""{"sid":5}""");
        Assert.Throws<FormatException>(() => LiveKitRoom.Read(doc.RootElement));
    }

    [Fact]
    public async Task Replay_store_forgets_ids_after_they_expire()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryWebhookReplayStore(time);
        var until = time.GetUtcNow() + TimeSpan.FromMinutes(5);

        Assert.True(await store.TryRememberAsync("EV_1", until));
        Assert.False(await store.TryRememberAsync("EV_1", until));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.True(await store.TryRememberAsync("EV_2", time.GetUtcNow() + TimeSpan.FromMinutes(5)));
        Assert.Equal(1, store.Count); // EV_1 dropped
        Assert.True(await store.TryRememberAsync("EV_1", time.GetUtcNow() + TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task Replay_store_is_bounded()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryWebhookReplayStore(time, capacity: 3);
        for (var i = 0; i < 10; i++)
            Assert.True(await store.TryRememberAsync($"EV_{i}", time.GetUtcNow() + TimeSpan.FromMinutes(5 + i)));
        Assert.Equal(3, store.Count);
        Assert.False(await store.TryRememberAsync("EV_9", time.GetUtcNow() + TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task Replay_store_admits_one_of_many_concurrent_deliveries()
    {
        var store = new InMemoryWebhookReplayStore(new FakeTimeProvider());
        var until = DateTimeOffset.MaxValue;
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => store.TryRememberAsync("EV_same", until).AsTask())));
        Assert.Single(results, r => r);
    }
}
