using System.ComponentModel.DataAnnotations;
using Platform.Contracts;

namespace Platform.Render.Worker;

/// <summary>What this render worker offers and how it talks to the pool. Bound from the "Render" section.</summary>
public sealed class RenderOptions
{
    public const string Section = "Render";

    /// <summary>Stable id of this worker (e.g. the pod name). Empty: <c>{machine}-{process id}</c>.</summary>
    [MaxLength(200)]
    public string? WorkerId { get; set; }

    /// <summary>Capacity: conversations run at once. Default 2 (a CPU worker); a GPU serves several 720p30 sessions.</summary>
    [Range(1, 1000)]
    public int MaxSessions { get; set; } = 2;

    /// <summary>What it renders on: Cpu (default) or Gpu.</summary>
    public RenderDevice Device { get; set; } = RenderDevice.Cpu;

    /// <summary>The face renderer in use, reported to the pool (e.g. <c>onnx-cpu</c>, <c>onnx-cuda</c>, <c>skia</c>).</summary>
    [Required, MaxLength(64)]
    public string RendererBackend { get; set; } = "onnx-cpu";

    /// <summary>Heartbeat period. Default 500 ms; the pool declares a worker lost after 1.5 s of silence, so keep it
    /// well under a third of that.</summary>
    [Range(typeof(TimeSpan), "00:00:00.05", "00:00:01")]
    public TimeSpan HeartbeatPeriod { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>On stop, how long to wait for running conversations to end before handing them back to the pool
    /// (they move to other workers). Default 30 s; 0 hands them back at once.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Where the media socket listens (Kestrel URLs, ';'-separated). Default: loopback on a free port. The
    /// first address is registered with the pool as this worker's media endpoint unless <see cref="MediaPublicUrl"/>
    /// is set.</summary>
    public string MediaUrls { get; set; } = "http://127.0.0.1:0";

    /// <summary>The media endpoint the Api should use (e.g. <c>ws://worker-3.internal:7000</c>) when it differs from
    /// the listening address (containers, NAT).</summary>
    public string? MediaPublicUrl { get; set; }

    /// <summary>A shared secret the Api sends with every relayed media socket (<c>x-platform-media-key</c>); empty
    /// accepts any caller (loopback-only development).</summary>
    public string? MediaKey { get; set; }

    /// <summary>Video size and rate of the sessions (720p30 by default; 1080p is configurable).</summary>
    [Range(160, 1920)]
    public int VideoWidth { get; set; } = 1280;

    [Range(120, 1080)]
    public int VideoHeight { get; set; } = 720;

    [Range(5, 60)]
    public int FramesPerSecond { get; set; } = 30;

    /// <summary>How far ahead of their media time audio and video are made before they are sent on an even clock
    /// (<see cref="Platform.Render.Sessions.OutputPacer"/>); zero sends each item as soon as it is made.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:00.5")]
    public TimeSpan OutputLead { get; set; } = Platform.Render.Sessions.OutputPacer.DefaultLead;

    /// <summary>The same for audio (at most <see cref="OutputLead"/>): shorter, because the page queues audio for its
    /// jitter anyway and the picture follows the audio there.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:00.5")]
    public TimeSpan AudioLead { get; set; } = Platform.Render.Sessions.OutputPacer.DefaultAudioLead;

    /// <summary>Let personas' LLM and speech endpoints be private, loopback or link-local addresses (an operator's own
    /// model server). Off by default: tenants cannot reach the worker's network.</summary>
    public bool AllowPrivateEndpoints { get; set; }
}
