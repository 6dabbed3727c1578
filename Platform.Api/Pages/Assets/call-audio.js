'use strict';
// Audio worklets of the call page: microphone capture (PCM16 messages ready to send) and playback of the
// replica's audio from a queue of timestamped chunks, with the media time of the sample being played.

const HEADER = 16;

/**
 * Collects 10 ms of microphone audio and hands the main thread a complete binary message (kind 0x03). Short messages
 * because the end of the user's sentence waits in here until its message is full: every millisecond is one more before
 * the worker hears it.
 */
class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = Math.round(sampleRate * 0.01);
    this.fill = 0;
    this.buffer = null;
    this.samples = null;
    this.alloc();
  }

  alloc() {
    this.buffer = new ArrayBuffer(HEADER + this.frame * 2);
    const view = new DataView(this.buffer);
    view.setUint8(0, 0x03);
    view.setUint8(1, 1); // mono
    view.setUint32(4, sampleRate, true);
    this.samples = new Int16Array(this.buffer, HEADER);
    this.fill = 0;
  }

  process(inputs) {
    const input = inputs[0];
    const channel = input && input[0];
    if (channel) {
      for (let i = 0; i < channel.length; i++) {
        const s = Math.max(-1, Math.min(1, channel[i]));
        this.samples[this.fill++] = s < 0 ? s * 0x8000 : s * 0x7fff;
        if (this.fill === this.frame) {
          this.port.postMessage(this.buffer, [this.buffer]);
          this.alloc();
        }
      }
    }
    return true;
  }
}

/**
 * Plays chunks of 16-bit PCM at the source rate (48 kHz), resampled linearly to the context's rate, in the order they
 * came. Reports the media time (µs) of the sample at the read head about every 50 ms of audio.
 */
class PlaybackProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.sourceRate = (options.processorOptions && options.processorOptions.sourceRate) || 48000;
    this.step = this.sourceRate / sampleRate;
    this.queue = []; // { t: µs of the first sample, data: Float32Array }
    this.pos = 0; // read position in queue[0], in source samples (fractional)
    this.queued = 0; // source samples in the queue
    this.sinceReport = 0;
    this.wasPlaying = false;
    this.flowing = false; // audio has come since the last reset: from then on an empty queue is a gap heard
    this.starved = 0; // output samples played as silence because the queue ran dry while audio was flowing
    this.port.onmessage = (e) => this.onMessage(e.data);
  }

  onMessage(m) {
    if (m.type === 'audio') {
      const pcm = new Int16Array(m.pcm);
      const data = new Float32Array(pcm.length);
      for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 0x8000;
      this.queue.push({ t: m.t, data });
      this.queued += data.length;
      this.flowing = true;
      // Never drop audio; but a queue of more than 20 s means the clock is broken: start over from the newest.
      if (this.queued > this.sourceRate * 20) this.reset();
    } else if (m.type === 'flush') {
      this.flush(m.after);
    } else if (m.type === 'reset') {
      this.reset();
    }
  }

  reset() {
    this.queue = [];
    this.pos = 0;
    this.queued = 0;
    this.flowing = false;
  }

  /** Drops queued audio stamped after `after` (µs), cutting the chunk that straddles it. */
  flush(after) {
    const kept = [];
    for (const chunk of this.queue) {
      if (chunk.t > after) break;
      const keep = Math.ceil(((after - chunk.t) / 1e6) * this.sourceRate);
      if (keep < chunk.data.length) {
        kept.push({ t: chunk.t, data: chunk.data.subarray(0, Math.max(keep, 0)) });
        break;
      }
      kept.push(chunk);
    }
    this.queue = kept;
    if (this.queue.length === 0) this.pos = 0;
    this.queued = this.queue.reduce((n, c) => n + c.data.length, 0);
  }

  sampleAt(offset) {
    // Sample `offset` source samples after the current chunk's start, looking into the next chunk if needed.
    let i = 0;
    while (i < this.queue.length && offset >= this.queue[i].data.length) {
      offset -= this.queue[i].data.length;
      i++;
    }
    return i < this.queue.length ? this.queue[i].data[offset] : 0;
  }

  process(_, outputs) {
    const out = outputs[0][0];
    const head = this.queue[0];
    const playing = !!head;
    const mediaTime = head ? head.t + (this.pos / this.sourceRate) * 1e6 : -1;
    for (let i = 0; i < out.length; i++) {
      const chunk = this.queue[0];
      if (!chunk) {
        out[i] = 0;
        if (this.flowing) this.starved++;
        continue;
      }
      const p = Math.floor(this.pos);
      const frac = this.pos - p;
      const a = chunk.data[p];
      const b = frac > 0 ? this.sampleAt(p + 1) : a;
      out[i] = a + (b - a) * frac;
      this.pos += this.step;
      while (this.queue.length && this.pos >= this.queue[0].data.length) {
        this.pos -= this.queue[0].data.length;
        this.queued -= this.queue[0].data.length;
        this.queue.shift();
      }
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    this.sinceReport += out.length;
    if (this.sinceReport >= sampleRate * 0.05 || playing !== this.wasPlaying) {
      this.sinceReport = 0;
      this.wasPlaying = playing;
      // queuedMs: what is left to play behind the read head (the worker shortens a long queue by that); starvedMs:
      // the gaps heard so far because audio came late.
      this.port.postMessage({ type: 'clock', t: mediaTime, ctxTime: currentTime, playing, queuedMs: ((this.queued - this.pos) / this.sourceRate) * 1000, starvedMs: (this.starved / sampleRate) * 1000 });
    }
    return true;
  }
}

registerProcessor('call-capture', CaptureProcessor);
registerProcessor('call-playback', PlaybackProcessor);
