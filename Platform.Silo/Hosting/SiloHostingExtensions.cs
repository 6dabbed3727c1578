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
        // Traces and metrics cost CPU on every grain call and query: collected only when there is somewhere to send them.
        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry()
                .WithTracing(t => t.AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application").AddNpgsql())
                .WithMetrics(m => m.AddRuntimeInstrumentation().AddMeter("Microsoft.Orleans", "Platform.Render.Thinking"))
                .UseOtlpExporter();
        }
        builder.UseOrleans(silo =>
        {
            silo.ConfigurePlatformSilo(options);
            if (options.Dashboard)
            {
                silo.AddDashboard();
            }
            silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
        });
        return builder;
    }

    /// <summary>Everything a silo of this platform needs apart from its endpoints; shared with the test clusters.</summary>
    public static ISiloBuilder ConfigurePlatformSilo(this ISiloBuilder silo, PlatformOptions options)
    {
        var postgres = Tuned(options.Postgres);
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresSchema.Invariant;
            o.ConnectionString = postgres;
        });
        silo.AddAdoNetGrainStorage(PostgresSchema.StorageName, o =>
        {
            o.Invariant = PostgresSchema.Invariant;
            o.ConnectionString = postgres;
            // A deleted persona or conversation leaves no row behind (and no secrets in old rows).
            o.DeleteStateOnClear = true;
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = PostgresSchema.Invariant;
            o.ConnectionString = postgres;
        });
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(new PostgresSchemaCheck(postgres));
        silo.Configure<ClusterMembershipOptions>(ClusterTuning.Apply);
        silo.Services.AddSingleton(TimeProvider.System);
        silo.Services.AddSingleton(_ => NpgsqlDataSource.Create(postgres));
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

    /// <summary>
    /// The silo never keeps session state on a connection (no temp tables, prepared statements or SET), so pooled
    /// connections skip the reset (DISCARD ALL) that PostgreSQL would otherwise run on each reuse.
    /// </summary>
    private static string Tuned(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true }.ConnectionString;

    public static WebApplication MapPlatformSiloEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/healthz");
        if (app.Services.GetRequiredService<IOptions<PlatformOptions>>().Value.Dashboard)
        {
            app.MapOrleansDashboard("/dashboard");
        }
        return app;
    }
}
