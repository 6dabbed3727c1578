using Platform.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddPlatformSilo();

var app = builder.Build();
app.MapPlatformSiloEndpoints();
app.Run();
