using Platform.Api.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddPlatformApi();

var app = builder.Build();
app.MapPlatformApi();
app.Run();

/// <summary>Entry point, visible to <c>WebApplicationFactory</c> in tests.</summary>
public partial class Program;
