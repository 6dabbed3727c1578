namespace Platform.LiveKit.Rooms;

/// <summary>CreateRoom's arguments (<c>livekit.CreateRoomRequest</c>, the fields this platform uses).</summary>
/// <param name="Name">The room name.</param>
public sealed record CreateRoomOptions(string Name)
{
    /// <summary>How long the room stays open before anyone joined; whole seconds (LiveKit's default when null).</summary>
    public TimeSpan? EmptyTimeout { get; init; }
    /// <summary>How long the room stays open after the last participant left; whole seconds.</summary>
    public TimeSpan? DepartureTimeout { get; init; }
    /// <summary>Participant limit; null or 0 for none.</summary>
    public uint? MaxParticipants { get; init; }
    /// <summary>Room metadata.</summary>
    public string? Metadata { get; init; }
}

/// <summary>SendData's options (<c>livekit.SendDataRequest</c>).</summary>
public sealed record SendDataOptions
{
    /// <summary>Reliable (default) or lossy delivery.</summary>
    public DataPacketKind Kind { get; init; } = DataPacketKind.Reliable;
    /// <summary>The topic receivers filter on; null for none.</summary>
    public string? Topic { get; init; }
    /// <summary>Identities to deliver to; empty for everyone in the room.</summary>
    public IReadOnlyList<string> DestinationIdentities { get; init; } = [];
}
