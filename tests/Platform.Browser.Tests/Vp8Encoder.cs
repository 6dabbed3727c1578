using Microsoft.Playwright;

namespace Platform.Browser.Tests;

/// <summary>
/// Makes the fake worker's VP8 frames once per run with the browser's own WebCodecs <c>VideoEncoder</c> (libvpx):
/// a moving, colour-cycling test picture, so consecutive frames differ.
/// </summary>
public static class Vp8Encoder
{
    private const string Script = """
        async ({ width, height, frames, keyEvery }) => {
          const canvas = new OffscreenCanvas(width, height);
          const g = canvas.getContext('2d');
          const out = [];
          let failure = null;
          const encoder = new VideoEncoder({
            output: (chunk) => {
              const bytes = new Uint8Array(chunk.byteLength);
              chunk.copyTo(bytes);
              let s = '';
              for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
              out.push({ key: chunk.type === 'key', data: btoa(s) });
            },
            error: (e) => { failure = String(e); },
          });
          encoder.configure({ codec: 'vp8', width, height, bitrate: 400000, framerate: 30, latencyMode: 'realtime' });
          for (let i = 0; i < frames; i++) {
            g.fillStyle = `hsl(${(i * 12) % 360} 60% 40%)`;
            g.fillRect(0, 0, width, height);
            g.fillStyle = '#ffffff';
            g.fillRect((i * 6) % (width - 48), height / 2 - 24, 48, 48);
            const frame = new VideoFrame(canvas, { timestamp: i * 33333 });
            encoder.encode(frame, { keyFrame: i % keyEvery === 0 });
            frame.close();
          }
          await encoder.flush();
          encoder.close();
          if (failure) throw new Error(failure);
          return out;
        }
        """;

    private sealed class Chunk
    {
        public bool Key { get; set; }
        public string Data { get; set; } = "";
    }

    public static async Task<IReadOnlyList<Vp8Frame>> EncodeAsync(IBrowser browser, Uri sameOriginPage, int frames, int keyEvery)
    {
        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(sameOriginPage, "/healthz").ToString()); // a secure (loopback) context for WebCodecs
        var chunks = await page.EvaluateAsync<Chunk[]>(Script, new { width = 320, height = 180, frames, keyEvery });
        Assert.Equal(frames, chunks.Length);
        Assert.True(chunks[0].Key, "the first encoded frame is a keyframe");
        return [.. chunks.Select(c => new Vp8Frame(c.Key, Convert.FromBase64String(c.Data)))];
    }
}
