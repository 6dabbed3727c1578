using Platform.Render.Worker;

var builder = Host.CreateApplicationBuilder(args);
builder.AddRenderWorker();
builder.Build().Run();
