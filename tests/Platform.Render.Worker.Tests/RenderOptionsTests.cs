using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Platform.Render.Worker.Tests;

public sealed class RenderOptionsTests
{
    private static RenderOptions Bind(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.AddRenderWorkerServices();
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptions<RenderOptions>>().Value;
    }

    [Fact]
    public void Defaults_are_valid_and_name_the_worker_after_its_machine_and_process()
    {
        var o = Bind();
        Assert.Equal((2, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30)), (o.MaxSessions, o.HeartbeatPeriod, o.DrainTimeout));
        Assert.Equal($"{Environment.MachineName}-{Environment.ProcessId}", o.WorkerId);
        Assert.Equal("gpu-7", Bind(("Render:WorkerId", "gpu-7"), ("Render:Device", "Gpu"), ("Render:MaxSessions", "6")).WorkerId);
    }

    [Theory]
    [InlineData("Render:MaxSessions", "0", "MaxSessions")]
    [InlineData("Render:HeartbeatPeriod", "00:00:02", "HeartbeatPeriod")]
    [InlineData("Render:HeartbeatPeriod", "00:00:00.001", "HeartbeatPeriod")]
    [InlineData("Render:DrainTimeout", "02:00:00", "DrainTimeout")]
    [InlineData("Render:RendererBackend", "", "RendererBackend")]
    public void Out_of_range_settings_fail_naming_the_setting(string key, string value, string field)
    {
        var e = Assert.Throws<OptionsValidationException>(() => Bind((key, value)));
        Assert.Contains(field, e.Message);
    }
}
