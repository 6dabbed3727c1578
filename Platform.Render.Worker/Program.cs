using Microsoft.AspNetCore.Builder;
using Platform.Render.Worker;
using Platform.Render.Worker.Media;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddRenderWorker();
var app = builder.Build();
app.UseWebSockets();
app.MapMediaEndpoints();
app.Run();
