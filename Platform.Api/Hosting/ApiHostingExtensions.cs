using Microsoft.AspNetCore.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Platform.Api.Conversations;
using Platform.Hosting;
using Platform.Api.Infrastructure;
using Platform.Api.LiveKit;
using Platform.Api.Operator;
using Platform.Api.Pages;
using Platform.Api.Personas;
using Platform.Api.Replicas;
using Scalar.AspNetCore;

namespace Platform.Api.Hosting;

public static class ApiHostingExtensions
{
    public static WebApplicationBuilder AddPlatformApi(this WebApplicationBuilder builder)
    {
        builder.AddPlatformClusterClient();
        builder.Services.AddOptions<OperatorOptions>().BindConfiguration(OperatorOptions.Section);
        builder.Services.AddLiveKitWebhooks();
        builder.Services.AddConversationPages();
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<UnavailableExceptionHandler>();
        builder.Services.AddHealthChecks();
        builder.Services.AddOpenApi(o => o.AddShapeBodies());
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = JsonBody.MaxBytes * 2L;
            k.AddServerHeader = false; // the conversation page is white-labeled: no server name in its headers
        });
        // Traces and metrics cost CPU on every request and grain call: collected only when there is somewhere to send them.
        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry()
                .WithTracing(t => t.AddAspNetCoreInstrumentation().AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"))
                .WithMetrics(m => m.AddAspNetCoreInstrumentation().AddRuntimeInstrumentation().AddMeter("Microsoft.Orleans"))
                .UseOtlpExporter();
        }
        return builder;
    }

    public static WebApplication MapPlatformApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealthChecks("/healthz");
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/docs");
        var v2 = app.MapGroup("/v2").AddEndpointFilter<ApiKeyFilter>();
        v2.MapReplicas().MapPersonas().MapConversations();
        app.MapOperator();
        app.MapLiveKitWebhooks();
        app.MapConversationPages();
        return app;
    }
}
