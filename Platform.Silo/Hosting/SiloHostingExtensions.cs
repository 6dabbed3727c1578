using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Orleans.Configuration;
using Orleans.Dashboard;
using Npgsql;
using Platform.Silo.Conversations;
using Platform.Silo.Infrastructure;
using Platform.Silo.Render;
using Platform.Silo.Webhooks;
using Platform.Silo.LiveKit;

namespace Platform.Silo.Hosting;

public static class SiloHostingExtensions
{
    /// <summary>The Orleans silo on PostgreSQL, with migrations applied before the silo starts.</summary>
    public static IHostApplicationBuilder AddPlatformSilo(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(PlatformOptions.Section).Get<PlatformOptions>() ?? new PlatformOptions();
        builder.Services.AddOptions<PlatformOptions>().BindConfiguration(PlatformOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);

        // Registered before UseOrleans, so it runs (and can stop the start) before the silo joins the cluster.
        builder.Services.AddHostedService<MigrationHostedService>();
        builder.Services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section);
        builder.Services.AddHealthChecks();
        builder.Services.AddOpenTelemetry()
            .WithTracing(t => t.AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application").AddNpgsql())
            .WithMetrics(m => m.AddRuntimeInstrumentation().AddMeter("Microsoft.Orleans"));
        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }
        builder.UseOrleans(silo =>
        {
            silo.ConfigurePlatformSilo(options);
            silo.AddDashboard();
            silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
        });
        return builder;
    }

    /// <summary>Everything a silo of this platform needs apart from its endpoints; shared with the test clusters.</summary>
    public static ISiloBuilder ConfigurePlatformSilo(this ISiloBuilder silo, PlatformOptions options)
    {
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresSchema.Invariant;
            o.ConnectionString = options.Postgres;
        });
        silo.AddAdoNetGrainStorage(PostgresSchema.StorageName, o =>
        {
            o.Invariant = PostgresSchema.Invariant;
            o.ConnectionString = options.Postgres;
            // A deleted persona or conversation leaves no row behind (and no secrets in old rows).
            o.DeleteStateOnClear = true;
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = PostgresSchema.Invariant;
            o.ConnectionString = options.Postgres;
        });
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(new PostgresSchemaCheck(options.Postgres));
        silo.Configure<ClusterMembershipOptions>(ClusterTuning.Apply);
        silo.Services.AddSingleton(TimeProvider.System);
        silo.Services.AddSingleton(_ => NpgsqlDataSource.Create(options.Postgres));
        silo.Services.AddSingleton<AppDatabase>();
        silo.Services.AddSingleton(_ => new SecretProtector(options.SecretsKey));
        silo.Services.AddHostedService<DeadlineSweeper>();
        silo.Services.AddSingleton<WebhookOutbox>();
        silo.Services.AddOptions<WebhookOptions>();
        silo.Services.AddHostedService<WebhookDispatcher>();
        silo.Services.AddOptions<RenderPoolOptions>().BindConfiguration(RenderPoolOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        silo.Services.AddConversationRooms();
        silo.UseSystemTextJsonGrainStorageSerializer();
        return silo;
    }

    public static WebApplication MapPlatformSiloEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/healthz");
        app.MapOrleansDashboard("/dashboard");
        return app;
    }
}
