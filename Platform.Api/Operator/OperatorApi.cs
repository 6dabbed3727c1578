using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Platform.Api.Infrastructure;
using Platform.Contracts;
using Platform.Contracts.Json;

namespace Platform.Api.Operator;

/// <summary>The platform operator's credential (separate from tenants' API keys).</summary>
public sealed class OperatorOptions
{
    public const string Section = "Operator";

    /// <summary>The operator key presented in <c>x-operator-key</c>. Without one the operator API answers 401 to everything.</summary>
    public string? ApiKey { get; set; }
}

/// <summary>Tenants, plans, branding and API keys, for the platform operator.</summary>
public static class OperatorApi
{
    public const string Header = "x-operator-key";

    private static readonly ObjectShape PlanShape = new(new Dictionary<string, Member>
    {
        ["name"] = new(new StringShape(64)),
        ["price_per_minute"] = new(new NumberShape(0, 1000)),
        ["included_minutes"] = new(new IntShape(0, 10_000_000)),
        ["max_concurrent_conversations"] = new(new IntShape(0, 100_000)),
        ["spend_cap"] = new(new NumberShape(0, 100_000_000)),
        ["requests_per_second"] = new(new IntShape(1, 100_000)),
        ["currency"] = new(new StringShape(3, ["usd", "eur", "gbp"])),
    });

    private static readonly ObjectShape TenantShape = new(new Dictionary<string, Member>
    {
        ["name"] = new(new StringShape(200), Required: true),
        ["plan"] = new(PlanShape),
    });

    private static readonly StringShape Color = new(7) { Rule = s => System.Text.RegularExpressions.Regex.IsMatch(s, "^#[0-9a-fA-F]{6}$") ? null : "must be a colour like '#1a2b3c'." };

    private static readonly ObjectShape BrandingShape = new(new Dictionary<string, Member>
    {
        ["display_name"] = new(new StringShape(100)),
        ["logo_url"] = new(new StringShape(2048) { Rule = UrlRule.Check }),
        ["primary_color"] = new(Color),
        ["accent_color"] = new(Color),
        ["custom_domain"] = new(new StringShape(253)),
        ["embed_origins"] = new(new ArrayShape(new StringShape(2048) { Rule = UrlRule.Check }, 20)),
    });

    private static readonly ObjectShape KeyShape = new(new Dictionary<string, Member> { ["name"] = new(new StringShape(100), Required: true) });

    public static WebApplication MapOperator(this WebApplication app)
    {
        var g = app.MapGroup("/operator").WithTags("Operator").AddEndpointFilter<OperatorFilter>();
        g.MapPost("/tenants", CreateTenantAsync).Body(TenantShape).WithName("CreateTenant");
        g.MapGet("/tenants", ListTenantsAsync).WithName("ListTenants");
        g.MapGet("/tenants/{tenant_id}", GetTenantAsync).WithName("GetTenant");
        g.MapPut("/tenants/{tenant_id}/plan", UpdatePlanAsync).Body(PlanShape).WithName("UpdateTenantPlan");
        g.MapPut("/tenants/{tenant_id}/branding", UpdateBrandingAsync).Body(BrandingShape).WithName("UpdateTenantBranding");
        g.MapPost("/tenants/{tenant_id}/webhook-secret", RotateWebhookSecretAsync).WithName("RotateWebhookSecret");
        g.MapPost("/tenants/{tenant_id}/api-keys", IssueKeyAsync).Body(KeyShape).WithName("IssueApiKey");
        g.MapGet("/tenants/{tenant_id}/api-keys", ListKeysAsync).WithName("ListApiKeys");
        g.MapDelete("/tenants/{tenant_id}/api-keys/{key_id}", RevokeKeyAsync).WithName("RevokeApiKey");
        return app;
    }

    private sealed class OperatorFilter(IOptions<OperatorOptions> options) : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            var expected = options.Value.ApiKey;
            var presented = context.HttpContext.Request.Headers[Header].ToString();
            if (string.IsNullOrEmpty(expected) || presented.Length == 0
                || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
            {
                return ProblemResults.Field(StatusCodes.Status401Unauthorized, Header, "The operator API needs a valid x-operator-key.");
            }
            return await next(context);
        }
    }

    public static JsonObject TenantView(TenantInfo t) => new()
    {
        ["tenant_id"] = t.Id.Value,
        ["name"] = t.Name,
        ["plan"] = new JsonObject
        {
            ["name"] = t.Plan.Name,
            ["price_per_minute"] = t.Plan.PricePerMinute,
            ["included_minutes"] = t.Plan.IncludedMinutes,
            ["max_concurrent_conversations"] = t.Plan.MaxConcurrentConversations,
            ["spend_cap"] = t.Plan.SpendCap,
            ["requests_per_second"] = t.Plan.RequestsPerSecond,
            ["currency"] = t.Plan.Currency,
        },
        ["branding"] = new JsonObject
        {
            ["display_name"] = t.Branding.DisplayName,
            ["logo_url"] = t.Branding.LogoUrl,
            ["primary_color"] = t.Branding.PrimaryColor,
            ["accent_color"] = t.Branding.AccentColor,
            ["custom_domain"] = t.Branding.CustomDomain,
            ["embed_origins"] = new JsonArray([.. (t.Branding.EmbedOrigins ?? []).Select(o => (JsonNode)o)]),
        },
        ["active_conversations"] = t.ActiveConversations,
        ["created_at"] = t.CreatedAt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    };

    private static JsonObject KeyView(ApiKeyInfo k) => new()
    {
        ["key_id"] = k.KeyId,
        ["name"] = k.Name,
        ["prefix"] = k.Prefix,
        ["created_at"] = k.CreatedAt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        ["last_used_at"] = k.LastUsedAt?.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        ["revoked_at"] = k.RevokedAt?.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    };

    public static TenantPlan ParsePlan(JsonObject? o, TenantPlan fallback) => o is null ? fallback : new TenantPlan(
        o["name"]?.GetValue<string>() ?? fallback.Name,
        o["price_per_minute"]?.GetValue<decimal>() ?? fallback.PricePerMinute,
        o["included_minutes"]?.GetValue<int>() ?? fallback.IncludedMinutes,
        o["max_concurrent_conversations"]?.GetValue<int>() ?? fallback.MaxConcurrentConversations,
        o.ContainsKey("spend_cap") ? o["spend_cap"]?.GetValue<decimal>() : fallback.SpendCap,
        o["requests_per_second"]?.GetValue<int>() ?? fallback.RequestsPerSecond,
        o["currency"]?.GetValue<string>() ?? fallback.Currency);

    private static ITenantGrain Tenant(IGrainFactory grains, string id) => grains.GetGrain<ITenantGrain>(new TenantId(id).ToGrainKey());

    private static async Task<IResult> CreateTenantAsync(HttpRequest request, IGrainFactory grains)
    {
        var (node, error) = await JsonBody.ReadValidAsync(request, TenantShape);
        if (error is not null)
        {
            return error;
        }
        var id = TenantId.New();
        var result = await Tenant(grains, id.Value).CreateAsync(node!["name"]!.GetValue<string>(), ParsePlan(node["plan"] as JsonObject, TenantPlan.Default));
        if (!result.IsOk)
        {
            return ProblemResults.From(result.Problem!);
        }
        var view = TenantView(result.Value!);
        view["webhook_secret"] = (await Tenant(grains, id.Value).RotateWebhookSecretAsync()).Value; // shown once
        return Results.Json(view, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListTenantsAsync(HttpRequest request, IGrainFactory grains)
    {
        var (limit, e1) = Query.Int(request, "limit", 20, 1, 100);
        var (page, e2) = Query.Int(request, "page", 1, 1, 1_000_000);
        if ((e1 ?? e2) is { } error)
        {
            return error;
        }
        var tenants = await grains.GetGrain<ITenantDirectoryGrain>(0).ListAsync(page, limit);
        return Results.Json(new JsonObject { ["data"] = new JsonArray([.. tenants.Select(TenantView)]) });
    }

    private static async Task<IResult> GetTenantAsync(string tenant_id, IGrainFactory grains)
    {
        var info = TenantId.IsValid(tenant_id) ? await Tenant(grains, tenant_id).GetAsync() : null;
        return info is null ? ProblemResults.NotFound("tenant", tenant_id) : Results.Json(TenantView(info));
    }

    private static async Task<IResult> UpdatePlanAsync(string tenant_id, HttpRequest request, IGrainFactory grains)
    {
        var info = TenantId.IsValid(tenant_id) ? await Tenant(grains, tenant_id).GetAsync() : null;
        if (info is null)
        {
            return ProblemResults.NotFound("tenant", tenant_id);
        }
        var (node, error) = await JsonBody.ReadValidAsync(request, PlanShape);
        if (error is not null)
        {
            return error;
        }
        var result = await Tenant(grains, tenant_id).UpdatePlanAsync(ParsePlan(node as JsonObject, info.Plan));
        return ProblemResults.Ok(result, TenantView);
    }

    private static async Task<IResult> UpdateBrandingAsync(string tenant_id, HttpRequest request, IGrainFactory grains)
    {
        if (!TenantId.IsValid(tenant_id))
        {
            return ProblemResults.NotFound("tenant", tenant_id);
        }
        var (node, error) = await JsonBody.ReadValidAsync(request, BrandingShape);
        if (error is not null)
        {
            return error;
        }
        var o = (JsonObject)node!;
        var branding = new TenantBranding(
            o["display_name"]?.GetValue<string>(), o["logo_url"]?.GetValue<string>(), o["primary_color"]?.GetValue<string>(),
            o["accent_color"]?.GetValue<string>(), o["custom_domain"]?.GetValue<string>(),
            o["embed_origins"] is JsonArray a ? [.. a.Select(x => x!.GetValue<string>())] : null);
        return ProblemResults.Ok(await Tenant(grains, tenant_id).UpdateBrandingAsync(branding), TenantView);
    }

    private static async Task<IResult> IssueKeyAsync(string tenant_id, HttpRequest request, IGrainFactory grains)
    {
        if (!TenantId.IsValid(tenant_id))
        {
            return ProblemResults.NotFound("tenant", tenant_id);
        }
        var (node, error) = await JsonBody.ReadValidAsync(request, KeyShape);
        if (error is not null)
        {
            return error;
        }
        var result = await Tenant(grains, tenant_id).IssueApiKeyAsync(node!["name"]!.GetValue<string>());
        if (!result.IsOk)
        {
            return ProblemResults.From(result.Problem!);
        }
        var view = KeyView(result.Value!.Info);
        view["api_key"] = result.Value.Secret;
        return Results.Json(view, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> RotateWebhookSecretAsync(string tenant_id, IGrainFactory grains)
    {
        if (!TenantId.IsValid(tenant_id))
        {
            return ProblemResults.NotFound("tenant", tenant_id);
        }
        var result = await Tenant(grains, tenant_id).RotateWebhookSecretAsync();
        return ProblemResults.Ok(result, secret => new JsonObject { ["webhook_secret"] = secret });
    }

    private static async Task<IResult> ListKeysAsync(string tenant_id, IGrainFactory grains)
    {
        if (!TenantId.IsValid(tenant_id) || await Tenant(grains, tenant_id).GetAsync() is null)
        {
            return ProblemResults.NotFound("tenant", tenant_id);
        }
        var keys = await Tenant(grains, tenant_id).ListApiKeysAsync();
        return Results.Json(new JsonObject { ["data"] = new JsonArray([.. keys.Select(KeyView)]) });
    }

    private static async Task<IResult> RevokeKeyAsync(string tenant_id, string key_id, IGrainFactory grains) =>
        TenantId.IsValid(tenant_id) && await Tenant(grains, tenant_id).RevokeApiKeyAsync(key_id)
            ? Results.NoContent()
            : ProblemResults.NotFound("api key", key_id);
}
