namespace Platform.Render.Speech.OpenAi;

/// <summary>
/// An OpenAI-compatible speech endpoint (OpenAI, vLLM, LocalAI, speaches...). <see cref="BaseUrl"/> includes the
/// version segment, e.g. <c>https://api.openai.com/v1</c>. The API key is sent as a bearer token and never logged.
/// </summary>
public sealed record OpenAiSpeechOptions
{
    public required Uri BaseUrl { get; init; }

    public string? ApiKey { get; init; }

    public required string Model { get; init; }

    /// <summary>TTS voice name (e.g. "alloy").</summary>
    public string Voice { get; init; } = "alloy";

    /// <summary>ASR language hint (ISO-639-1), or null to let the endpoint detect it.</summary>
    public string? Language { get; init; } = "en";

    /// <summary>Extra request headers (persona <c>headers</c>).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest utterance sent for transcription; audio beyond it is dropped (the result says so).</summary>
    public TimeSpan MaxUtterance { get; init; } = TimeSpan.FromSeconds(120);

    internal Uri Endpoint(string path) => new(BaseUrl.ToString().TrimEnd('/') + "/" + path);
}

internal static class OpenAiHttp
{
    public static void Authorise(HttpRequestMessage request, OpenAiSpeechOptions options)
    {
        if (!string.IsNullOrEmpty(options.ApiKey))
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.ApiKey);
        foreach (var (name, value) in options.Headers) request.Headers.TryAddWithoutValidation(name, value);
    }

    /// <summary>Sends with the options' timeout; maps every transport failure to an error code instead of throwing.</summary>
    public static async Task<(HttpResponseMessage? Response, SpeechError? Error)> SendAsync(
        HttpClient http, HttpRequestMessage request, OpenAiSpeechOptions options, string stage, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        try
        {
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode) return (response, null);
            var body = await SafeReadAsync(response, timeout.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            response.Dispose();
            var code = status switch
            {
                401 or 403 => $"{stage}_unauthorized",
                429 => $"{stage}_rate_limited",
                >= 500 => $"{stage}_server_error",
                _ => $"{stage}_rejected",
            };
            return (null, new SpeechError(code, $"{request.RequestUri?.AbsolutePath} answered {status}: {ErrorMessage(body)}"));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, new SpeechError($"{stage}_timeout", $"{request.RequestUri?.AbsolutePath} did not answer within {options.Timeout.TotalSeconds:0.#} s"));
        }
        catch (HttpRequestException ex)
        {
            return (null, new SpeechError($"{stage}_unreachable", $"{request.RequestUri?.Host}: {ex.Message}"));
        }
    }

    private static async Task<string> SafeReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return text.Length > 500 ? text[..500] : text;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            return "(no body)";
        }
    }

    /// <summary>OpenAI errors look like {"error":{"message":"..."}}; anything else is shown as sent.</summary>
    private static string ErrorMessage(string body)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == System.Text.Json.JsonValueKind.Object && error.TryGetProperty("message", out var m)) return m.ToString();
                return error.ToString();
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return string.IsNullOrWhiteSpace(body) ? "(empty body)" : body;
    }
}
