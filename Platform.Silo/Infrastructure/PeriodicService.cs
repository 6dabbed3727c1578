namespace Platform.Silo.Infrastructure;

/// <summary>
/// A silo background loop on the silo's <see cref="TimeProvider"/> (so tests drive it with a fake clock): one pass per
/// period; a failed pass is logged and the next period tries again. Subclasses say what one pass does.
/// </summary>
public abstract partial class PeriodicService(TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>The silo's clock, for subclasses too.</summary>
    protected TimeProvider Time { get; } = time;

    protected abstract TimeSpan Period { get; }

    /// <summary>False to not run at all (e.g. a feature that is not configured).</summary>
    protected virtual bool Enabled => true;

    protected abstract Task RunPassAsync(CancellationToken stoppingToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }
        using var timer = new PeriodicTimer(Period, Time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RunPassAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogPassFailed(GetType().Name, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Service}: a pass failed; retrying next period")]
    private partial void LogPassFailed(string service, Exception e);
}
