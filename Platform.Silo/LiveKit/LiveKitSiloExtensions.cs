using Platform.LiveKit;

namespace Platform.Silo.LiveKit;

public static class LiveKitSiloExtensions
{
    /// <summary>
    /// The <c>LiveKit</c> section (URL, API key, API secret: all three, or none for the embedded transport), the
    /// conversations' rooms and the room sweep.
    /// </summary>
    public static IServiceCollection AddConversationRooms(this IServiceCollection services)
    {
        services.AddOptions<LiveKitOptions>().BindConfiguration(LiveKitOptions.Section)
            .Validate(o => o.IsConfigured || (string.IsNullOrWhiteSpace(o.Url) && string.IsNullOrWhiteSpace(o.ApiKey) && string.IsNullOrWhiteSpace(o.ApiSecret)),
                "LiveKit: set Url, ApiKey and ApiSecret together (or none of them for the embedded transport).")
            .Validate(o => o.RequestTimeout > TimeSpan.Zero && o.RequestTimeout <= TimeSpan.FromSeconds(20),
                "LiveKit:RequestTimeout must be positive and at most 20 s: room creation runs inside a grain call.")
            .ValidateOnStart();
        services.AddHttpClient(ConversationRooms.HttpClientName);
        services.AddSingleton<ConversationRooms>();
        services.AddSingleton<LiveKitRoomSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<LiveKitRoomSweeper>());
        return services;
    }
}
