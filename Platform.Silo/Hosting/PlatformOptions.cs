using System.ComponentModel.DataAnnotations;

namespace Platform.Silo.Hosting;

/// <summary>Where the cluster keeps its state, and how it names itself. Bound from the "Platform" section.</summary>
public sealed class PlatformOptions
{
    public const string Section = "Platform";

    /// <summary>Npgsql connection string of the PostgreSQL database that holds clustering, grain state, reminders and
    /// the application tables.</summary>
    [Required]
    public string Postgres { get; set; } = "";

    /// <summary>Orleans cluster id: silos and clients with the same id form one cluster.</summary>
    [Required]
    public string ClusterId { get; set; } = "platform";

    /// <summary>Orleans service id: the key under which grain state and reminders are stored. Never change it on a live
    /// deployment.</summary>
    [Required]
    public string ServiceId { get; set; } = "platform";

    /// <summary>Silo-to-silo port (0 = pick a free one).</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Gateway port for clients (Api, Portal, render workers); 0 = pick a free one.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The public origin of the Api, used to build <c>conversation_url</c>.</summary>
    [Required]
    public string PublicBaseUrl { get; set; } = "http://localhost:5080";

    /// <summary>Serve the Orleans dashboard at /dashboard. It times every grain call, which costs CPU on a busy silo.</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>Key used to encrypt tenants' secrets (LLM keys, webhook secrets) at rest: 32 bytes, base64. The run
    /// command generates one under .data/; deployments supply their own.</summary>
    public string? SecretsKey { get; set; }
}
