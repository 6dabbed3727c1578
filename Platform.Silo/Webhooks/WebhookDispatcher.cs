using Platform.Contracts;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using Platform.Silo.Infrastructure;
using Platform.Silo.Tenants;

namespace Platform.Silo.Webhooks;

/// <summary>
/// Sends queued callbacks: every second (on the silo's TimeProvider) it claims due deliveries, signs them with the
/// tenant's secret, POSTs them through <see cref="SafeHttp"/>, and records each attempt; failures retry with backoff.
/// Every silo runs one; claims are leased rows, so a delivery goes out from one silo at a time.
/// </summary>
internal sealed partial class WebhookDispatcher(
    WebhookOutbox outbox,
    IGrainFactory grains,
    IOptions<WebhookOptions> options,
    TimeProvider time,
    ILogger<WebhookDispatcher> logger) : PeriodicService(time, logger)
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);
    private readonly HttpClient _http = new(SafeHttp.CreateHandler(options.Value.AllowPrivateTargets)) { Timeout = Timeout.InfiniteTimeSpan };

    protected override TimeSpan Period => TimeSpan.FromSeconds(1);

    protected override async Task RunPassAsync(CancellationToken stoppingToken)
    {
        // Keep going while there is work: the next event of a conversation becomes due once this one is sent.
        while (await DispatchOnceAsync(_http, stoppingToken) > 0)
        {
        }
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    public async Task<int> DispatchOnceAsync(HttpClient http, CancellationToken ct)
    {
        var due = await outbox.ClaimAsync(Time.GetUtcNow(), Lease, 32);
        await Task.WhenAll(due.Select(d => SendAsync(http, d, ct)));
        return due.Count;
    }

    private async Task SendAsync(HttpClient http, WebhookOutbox.Delivery d, CancellationToken ct)
    {
        int? status = null;
        string? error = null;
        var delivered = false;
        try
        {
            var secret = await grains.GetGrain<ITenantSecrets>(d.Tenant.ToGrainKey()).WebhookSecretAsync()
                ?? throw new InvalidOperationException("the tenant no longer exists");
            var timestamp = Time.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, d.Url) { Content = new StringContent(d.Body, Encoding.UTF8, "application/json") };
            request.Headers.Add(WebhookSignature.IdHeader, $"whd_{d.Id}");
            request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret, timestamp, d.Body));
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(options.Value.AttemptTimeout);
            using var response = await http.SendAsync(request, cts.Token);
            status = (int)response.StatusCode;
            delivered = response.IsSuccessStatusCode;
            if (!delivered)
            {
                error = $"HTTP {status}";
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            error = e is OperationCanceledException ? $"no answer within {options.Value.AttemptTimeout.TotalSeconds:0} s" : e.Message;
        }
        var backoff = options.Value.Backoff;
        DateTimeOffset? retryAt = delivered || d.Attempts >= backoff.Length ? null : Time.GetUtcNow() + backoff[d.Attempts];
        await outbox.RecordAsync(d.Id, delivered, status, error is null ? null : error[..Math.Min(error.Length, 500)], Time.GetUtcNow(), retryAt);
        if (!delivered)
        {
            LogAttemptFailed(d.EventType, d.ConversationId, d.Attempts + 1, error ?? "");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {EventType} for conversation {Conversation}: attempt {Attempt} failed: {Error}")]
    private partial void LogAttemptFailed(string eventType, string conversation, int attempt, string error);
}
