'use strict';
// The call page: join, microphone up, the replica's audio and video down over one WebSocket (or, for a conversation
// on LiveKit, through its room with livekit-client), captions, mute, leave, automatic reconnection, and events to
// the embedding page. No framework, no build step.
(() => {
  const cfg = JSON.parse(document.getElementById('call-config').textContent);
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const stage = $('stage');
  const notice = $('notice');
  const noticeTitle = $('notice-title');
  const noticeText = $('notice-text');
  const action = $('notice-action');
  const pill = $('pill');
  const captionsBox = $('captions');
  const canvas = $('video');
  const controls = $('controls');
  const muteButton = $('mute');
  const muteLabel = $('mute-label');
  const leaveButton = $('leave');
  const replica = cfg.replica_name;
  const params = new URLSearchParams(location.search);
  const meetingToken = params.get('t') || params.get('meeting_token');

  const SOURCE_RATE = 48000;
  const KIND_VIDEO = 0x01;
  const KIND_AUDIO = 0x02;
  const MICROPHONE = { audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true }, video: false };
  const CALL_STATES = new Set(['connecting', 'waiting', 'live', 'reconnecting']);
  // On LiveKit the page joins the conversation's room: the microphone is a published track, the replica's audio and
  // video are the worker's tracks, and the interactions protocol travels as reliable data on one topic.
  const onLiveKit = typeof cfg.livekit_path === 'string';
  const TOPIC = 'interactions';
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  let state = body.dataset.state;
  let finalState = null; // 'ended' | 'left' | 'bad-link' | 'auth': no reconnection
  let joining = false;
  let pipelineReady = false; // the page's own transport: audio (and video) set up, so the socket may say hello
  let ws = null;
  let room = null; // the LiveKit room (on LiveKit), once joined
  let roomAttempt = null; // the LiveKit join in progress
  let helloTimer = 0;
  const attached = []; // media elements of the worker's LiveKit tracks
  let attempt = 0;
  let retryTimer = 0;
  let hasBeenLive = false;
  const captionsOn = !!cfg.captions; // properties.enable_closed_captions, from the conversation itself
  let muted = false;
  let audio = null;
  let mic = null;
  let player = null;
  let capture = null;
  let video = null;
  let raf = 0;
  let clock = { t: -1, ctxTime: 0, playing: false };
  let anchor = null; // { t: µs, at: ms } free-running media clock when no audio plays
  let lastPlaybackSent = -1;
  let lastPlaybackAt = 0;
  const pendingIn = [];

  /** A performance mark for latency measurements (navigation start → each stage of the first picture and the call). */
  function markOnce(name) {
    if (!performance.getEntriesByName(name).length) performance.mark(name);
  }

  // ---- embedding page -------------------------------------------------------------------------------------------

  const parentOrigin = (() => {
    if (window.parent === window) return null;
    let origin = null;
    try {
      if (location.ancestorOrigins && location.ancestorOrigins.length) origin = location.ancestorOrigins[0];
    } catch (_) { /* not available */ }
    if (!origin && document.referrer) {
      try { origin = new URL(document.referrer).origin; } catch (_) { /* no referrer */ }
    }
    if (!origin || origin === 'null') return null;
    return origin === location.origin || cfg.embed_origins.includes(origin) ? origin : null;
  })();

  function toParent(message) {
    if (parentOrigin) window.parent.postMessage(message, parentOrigin);
  }

  window.addEventListener('message', (e) => {
    if (!parentOrigin || e.source !== window.parent || e.origin !== parentOrigin) return;
    let m = e.data;
    if (typeof m === 'string') {
      try { m = JSON.parse(m); } catch (_) { return; }
    }
    if (!m || typeof m !== 'object' || typeof m.event_type !== 'string' || !m.event_type.startsWith('conversation.')) return;
    const message = { ...m, message_type: 'conversation', conversation_id: cfg.conversation_id };
    if (state === 'live' && transportOpen()) sendJson(message);
    else if (pendingIn.length < 50) pendingIn.push(message);
  });

  // ---- states -----------------------------------------------------------------------------------------------------

  function reasonText(reason) {
    return (reason && cfg.reasons[reason]) || cfg.default_reason;
  }

  function panel(title, text, label, name) {
    noticeTitle.textContent = title;
    noticeText.textContent = text;
    if (label) {
      action.textContent = label;
      action.dataset.action = name;
      action.hidden = false;
    } else {
      action.hidden = true;
      delete action.dataset.action;
    }
  }

  function setState(next, detail) {
    state = next;
    body.dataset.state = next;
    const inCall = CALL_STATES.has(next);
    notice.hidden = inCall;
    controls.hidden = !inCall;
    pill.hidden = !inCall || next === 'live';
    switch (next) {
      case 'prejoin': panel(`Talk with ${replica}`, 'You will be asked to allow your microphone.', 'Join', 'join'); break;
      case 'connecting': pill.textContent = 'Connecting…'; break;
      case 'waiting': pill.textContent = `Waiting for ${replica}…`; break;
      case 'reconnecting': pill.textContent = 'Reconnecting…'; break;
      case 'mic-denied': panel('Microphone blocked', 'Allow this page to use your microphone in your browser\'s site settings, then try again.', 'Try again', 'join'); break;
      case 'no-mic': panel('No microphone found', 'Connect a microphone, then try again.', 'Try again', 'join'); break;
      case 'unsupported': panel('This browser cannot join the call', detail, null); break;
      case 'ended': panel('The call has ended', reasonText(detail), null); break;
      case 'left': panel('You left the call', 'You can join again while the call is open.', 'Rejoin', 'join'); break;
      case 'bad-link': panel('This link is not valid', 'Ask the person who sent it for a new one.', null); break;
      case 'auth': panel('Access code needed', 'This call is private.', 'Enter code', 'code'); break;
      case 'error': panel('Something went wrong', 'The call could not start on this device.', 'Try again', 'join'); break;
      default: break;
    }
    const properties = { state: next };
    if (next === 'ended') properties.shutdown_reason = detail || null;
    toParent(systemMessage('system.state', properties));
  }

  action.addEventListener('click', () => {
    if (action.dataset.action === 'join') join();
    else if (action.dataset.action === 'code') location.href = location.pathname;
  });

  function unsupportedReason() {
    if (!window.isSecureContext) return 'Open this link over a secure (https) connection to join.';
    const media = navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
    const ok = onLiveKit
      ? media && window.RTCPeerConnection && window.LivekitClient
      : 'WebSocket' in window && window.AudioContext && window.AudioWorkletNode && media && (cfg.audio_only || window.VideoDecoder);
    return ok ? null : 'Open this link in a current version of your browser, or in another browser, to join.';
  }

  // ---- join and leave ---------------------------------------------------------------------------------------------

  async function join() {
    if (joining) return;
    joining = true;
    performance.mark('join');
    finalState = null;
    hasBeenLive = false;
    attempt = 0;
    setMuted(false);
    setState('connecting');
    // On the page's own transport: an audio context created inside the click (so the browser lets it play), and
    // its worklets, loading while the browser asks for the microphone. On LiveKit the room plays the tracks.
    let worklets = null;
    if (!onLiveKit) {
      try {
        audio = new AudioContext({ sampleRate: SOURCE_RATE, latencyHint: 'interactive' });
      } catch (_) {
        audio = new AudioContext({ latencyHint: 'interactive' });
      }
      worklets = audio.audioWorklet.addModule(cfg.worklet_url);
      worklets.catch(() => {}); // awaited below; a failure there is reported as an error state
      // The socket is open already (the preview's) or opens meanwhile (its handshake and the route to the worker
      // overlap the microphone prompt); it says hello, which is what makes us present, only once the audio is set up.
      startVideo();
      clearTimeout(retryTimer);
      if (!ws) connect();
    }
    try {
      mic = await navigator.mediaDevices.getUserMedia(MICROPHONE);
    } catch (e) {
      closeSocket('microphone');
      teardown();
      joining = false;
      setState(e && e.name === 'NotFoundError' ? 'no-mic' : 'mic-denied');
      return;
    }
    if (finalState) { // ended (or left) while the browser asked
      teardown();
      joining = false;
      return;
    }
    if (onLiveKit) {
      joining = false;
      connect();
      return;
    }
    try {
      await worklets;
      player = new AudioWorkletNode(audio, 'call-playback', {
        numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1], processorOptions: { sourceRate: SOURCE_RATE },
      });
      player.port.onmessage = (e) => onClock(e.data);
      player.connect(audio.destination);
      capture = new AudioWorkletNode(audio, 'call-capture', { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
      capture.port.onmessage = (e) => onMicrophone(e.data);
      const silent = audio.createGain();
      silent.gain.value = 0;
      audio.createMediaStreamSource(mic).connect(capture);
      capture.connect(silent).connect(audio.destination);
      if (audio.state !== 'running') await audio.resume();
    } catch (_) {
      closeSocket('error');
      teardown();
      joining = false;
      setState(finalState || 'error');
      return;
    }
    if (finalState) {
      teardown();
      joining = false;
      return;
    }
    startVideo();
    joining = false;
    pipelineReady = true;
    if (!ws) connect(); // closed while setting up: again now
    else if (ws.readyState === WebSocket.OPEN) greet(); // else its opening greets
  }

  /** The replica's picture, decoded onto the canvas on the audio clock (or the page's own before audio plays). */
  function startVideo() {
    if (!canvas || cfg.audio_only) return;
    if (!video) video = new VideoPipe(canvas, () => sendJson(systemMessage('system.keyframe_request', {})));
    video.warm();
    if (!raf) raf = requestAnimationFrame(tick);
  }

  /**
   * Before Join: the socket opens with the page and asks for the picture alone (system.preview), so the person sees
   * the replica while deciding; nothing is heard or sent and nobody is present until hello. Join then says hello on
   * the same socket. A preview that fails is retried quietly; a bad link, a wrong code or a call that is over end it.
   */
  function startPreview() {
    if (onLiveKit || !canvas || cfg.audio_only || !window.VideoDecoder) return;
    startVideo();
    connect();
  }

  /** Closes the page's socket without a reconnection. */
  function closeSocket(reason) {
    const socket = ws;
    ws = null;
    clearTimeout(retryTimer);
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, reason);
  }

  function teardown() {
    pipelineReady = false;
    clearTimeout(retryTimer);
    clearInterval(helloTimer);
    leaveRoom();
    cancelAnimationFrame(raf);
    raf = 0;
    if (mic) mic.getTracks().forEach((t) => t.stop());
    if (audio) audio.close().catch(() => {});
    if (video) video.reset();
    mic = null;
    audio = null;
    player = null;
    capture = null;
    video = null;
    clock = { t: -1, ctxTime: 0, playing: false };
    anchor = null;
    stage.classList.remove('speaking');
  }

  function finish(kind, detail) {
    finalState = kind;
    closeSocket(kind);
    teardown();
    setState(kind, detail);
  }

  leaveButton.addEventListener('click', () => finish('left'));

  function setMuted(value) {
    muted = value;
    muteButton.setAttribute('aria-pressed', String(muted));
    muteLabel.textContent = muted ? 'Unmute' : 'Mute';
    body.classList.toggle('muted', muted);
    if (mic) mic.getAudioTracks().forEach((t) => { t.enabled = !muted; });
  }

  muteButton.addEventListener('click', () => setMuted(!muted));

  // ---- the media socket -------------------------------------------------------------------------------------------

  function systemMessage(type, properties) {
    return { message_type: 'system', event_type: type, conversation_id: cfg.conversation_id, properties };
  }

  function transportOpen() {
    return onLiveKit ? !!room : !!ws && ws.readyState === WebSocket.OPEN;
  }

  function sendJson(message) {
    if (room) {
      room.localParticipant.publishData(encoder.encode(JSON.stringify(message)), { reliable: true, topic: TOPIC }).catch(() => {});
    } else if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(message));
    }
  }

  function hello() {
    sendJson(systemMessage('system.hello', {
      sample_rate: audio ? audio.sampleRate : SOURCE_RATE,
      audio_only: !!cfg.audio_only,
      client: clientSummary(),
    }));
  }

  /** The socket is open and the audio set up: hello makes us present, and the worker answers system.ready. */
  function greet() {
    hello();
    if (state === 'connecting') setState('waiting');
  }

  function socketUrl() {
    const url = new URL(cfg.media_path, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    if (meetingToken) url.searchParams.set('meeting_token', meetingToken);
    return url.href;
  }

  function clientSummary() {
    const brands = navigator.userAgentData && navigator.userAgentData.brands;
    return (brands ? brands.map((b) => `${b.brand} ${b.version}`).join(', ') : navigator.userAgent).slice(0, 200);
  }

  function connect() {
    clearTimeout(retryTimer);
    if (onLiveKit) {
      connectRoom();
      return;
    }
    const socket = new WebSocket(socketUrl());
    socket.binaryType = 'arraybuffer';
    ws = socket;
    socket.onopen = () => {
      if (ws !== socket) return;
      markOnce('socket-open');
      if (pipelineReady) greet();
      else if (video) sendJson(systemMessage('system.preview', {})); // the picture until hello
    };
    socket.onmessage = (e) => {
      if (ws !== socket) return;
      if (typeof e.data === 'string') onText(e.data);
      else onBinary(e.data);
    };
    socket.onclose = (e) => {
      if (ws === socket) onClosed(e);
    };
  }

  // ---- the LiveKit room --------------------------------------------------------------------------------------------

  /** Asks for this link's join (a fresh token each time), joins the room, publishes the microphone, says hello. */
  async function connectRoom() {
    const mine = {};
    roomAttempt = mine;
    let join;
    try {
      const url = new URL(cfg.livekit_path, location.href);
      if (meetingToken) url.searchParams.set('meeting_token', meetingToken);
      const r = await fetch(url, { method: 'POST', cache: 'no-store', credentials: 'same-origin' });
      if (roomAttempt !== mine || finalState) return;
      if (r.status === 404) { onClosed({ code: 4404 }); return; }
      if (r.status === 403) { onClosed({ code: 4403 }); return; }
      if (r.status === 409) { onClosed({ code: 4410 }); return; }
      if (!r.ok) throw new Error(`join answered ${r.status}`);
      join = await r.json();
    } catch (_) {
      if (roomAttempt === mine && !finalState) onClosed({ code: 1006 });
      return;
    }
    if (roomAttempt !== mine || finalState) return;
    const L = window.LivekitClient;
    const next = new L.Room({ adaptiveStream: false, dynacast: false, stopLocalTrackOnUnpublish: false });
    const current = () => room === next;
    next
      .on(L.RoomEvent.TrackSubscribed, (track) => { if (current()) onRemoteTrack(track); })
      .on(L.RoomEvent.TrackUnsubscribed, (track) => detach(track))
      .on(L.RoomEvent.DataReceived, (payload, participant, kind, topic) => {
        if (current() && topic === TOPIC) onText(decoder.decode(payload));
      })
      // The worker joining (or rejoining) after the page: greet it, so it answers with system.ready.
      .on(L.RoomEvent.ParticipantConnected, () => { if (current()) hello(); })
      .on(L.RoomEvent.Reconnecting, () => { if (current() && hasBeenLive) setState('reconnecting'); })
      .on(L.RoomEvent.Reconnected, () => { if (current()) hello(); })
      .on(L.RoomEvent.Disconnected, () => {
        if (!current()) return;
        leaveRoom();
        onClosed({ code: 1006 });
      });
    room = next;
    try {
      await next.connect(join.url, join.token, { autoSubscribe: true });
      if (!current()) { next.disconnect(); return; }
      const track = await microphoneTrack();
      if (!current()) return;
      await next.localParticipant.publishTrack(track, { source: L.Track.Source.Microphone, name: 'microphone' });
      if (!current()) return;
      hello();
      // Until the worker answers, say hello again now and then (it may still be joining).
      clearInterval(helloTimer);
      helloTimer = setInterval(() => { if (current() && state !== 'live') hello(); }, 2000);
      if (state === 'connecting') setState('waiting');
    } catch (_) {
      if (!current()) return;
      leaveRoom();
      onClosed({ code: 1006 });
    }
  }

  /** The microphone's track, asked for again if the room stopped it when it disconnected. */
  async function microphoneTrack() {
    const live = mic && mic.getAudioTracks().find((t) => t.readyState === 'live');
    if (live) return live;
    mic = await navigator.mediaDevices.getUserMedia(MICROPHONE);
    setMuted(muted);
    return mic.getAudioTracks()[0];
  }

  function leaveRoom() {
    roomAttempt = null;
    clearInterval(helloTimer);
    const r = room;
    room = null;
    while (attached.length) attached.pop().remove();
    if (r) r.disconnect(false).catch(() => {}); // false: the microphone stays ours, for a rejoin

  }

  function onRemoteTrack(track) {
    if (track.kind === 'video' && cfg.audio_only) return;
    const element = track.attach();
    attached.push(element);
    if (track.kind === 'audio') {
      element.hidden = true;
      body.append(element);
      return;
    }
    element.className = 'video';
    element.muted = true;
    element.playsInline = true;
    stage.insertBefore(element, captionsBox);
    const shown = () => {
      if (stage.classList.contains('has-video')) return;
      stage.classList.add('has-video');
      performance.mark('first-frame');
    };
    if (typeof element.requestVideoFrameCallback === 'function') element.requestVideoFrameCallback(shown);
    else element.addEventListener('playing', shown, { once: true });
  }

  function detach(track) {
    for (const element of track.detach()) {
      const i = attached.indexOf(element);
      if (i >= 0) attached.splice(i, 1);
      element.remove();
    }
  }

  function onClosed(e) {
    ws = null;
    if (finalState) return;
    if (e.code === 4404) { finish('bad-link'); return; }
    if (e.code === 4403) { finish('auth'); return; }
    if (e.code === 4410) { finish('ended', e.reason); return; }
    const previewing = state === 'prejoin';
    const next = hasBeenLive ? 'reconnecting' : 'waiting';
    if (!previewing && state !== next) setState(next);
    // Back-off with jitter: a worker failover is over within seconds, a waiting page should not hammer the server.
    const delay = Math.min(8000, 300 * 2 ** Math.min(attempt, 5)) * (0.75 + Math.random() * 0.5);
    attempt++;
    retryTimer = setTimeout(connect, delay);
  }

  function onText(text) {
    let m;
    try { m = JSON.parse(text); } catch (_) { return; }
    if (!m || typeof m.event_type !== 'string') return;
    const p = (m.properties && typeof m.properties === 'object') ? m.properties : {};
    switch (m.event_type) {
      case 'system.ready': onReady(); break;
      case 'system.flush': flush(Number(p.after)); break;
      case 'system.ended': finish('ended', p.shutdown_reason); break;
      case 'system.error': break; // a protocol mistake of ours; the call goes on
      default:
        if (m.event_type.startsWith('conversation.')) onConversation(m, p);
        break;
    }
  }

  function onReady() {
    attempt = 0;
    hasBeenLive = true;
    clearInterval(helloTimer);
    // A (re)connection starts a fresh stream: the worker sends a keyframe first.
    if (player) player.port.postMessage({ type: 'reset' });
    if (video) {
      video.reset();
      video.warm();
    }
    clock = { t: -1, ctxTime: 0, playing: false };
    anchor = null;
    markOnce('live');
    setState('live');
    while (pendingIn.length) sendJson(pendingIn.shift());
  }

  function onBinary(buffer) {
    if (buffer.byteLength < 16) return;
    const view = new DataView(buffer);
    const kind = view.getUint8(0);
    const t = Number(view.getBigInt64(8, true));
    if (kind === KIND_AUDIO) {
      if (player && (buffer.byteLength - 16) % 2 === 0) player.port.postMessage({ type: 'audio', t, pcm: buffer.slice(16) });
    } else if (kind === KIND_VIDEO && video) {
      markOnce('video-in');
      video.push((view.getUint8(1) & 1) === 1, view.getUint16(2, true), view.getUint16(4, true), t, new Uint8Array(buffer, 16));
    }
  }

  function onMicrophone(message) {
    if (muted || state !== 'live' || !ws || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > 1 << 20) return; // a stalled socket: do not queue seconds of stale speech
    ws.send(message);
  }

  function flush(afterSeconds) {
    if (!Number.isFinite(afterSeconds)) return;
    const after = afterSeconds * 1e6;
    if (player) player.port.postMessage({ type: 'flush', after });
    if (video) video.flush(after);
    stage.classList.remove('speaking');
  }

  // ---- clock: the audio being played drives the picture -------------------------------------------------------------

  function onClock(m) {
    clock = m;
    if (!m.playing || state !== 'live') return;
    const now = performance.now();
    if (now - lastPlaybackAt >= 200 && m.t !== lastPlaybackSent) {
      lastPlaybackSent = m.t;
      lastPlaybackAt = now;
      // With what is queued behind it: while the replica is silent the worker leaves out that much silence (less a
      // little for jitter), so a queue that grew in a burst does not stay as latency; and with how long the queue has
      // run dry so far (gaps heard), which makes the worker keep more for jitter.
      sendJson(systemMessage('system.playback', { media_time: m.t / 1e6, queued: Math.max(0, m.queuedMs) / 1000, starved: m.starvedMs / 1000 }));
    }
  }

  function mediaClock() {
    const now = performance.now();
    if (audio && clock.playing && clock.t >= 0) {
      const t = clock.t + Math.max(0, audio.currentTime - clock.ctxTime) * 1e6;
      anchor = { t, at: now };
      return t;
    }
    return anchor ? anchor.t + (now - anchor.at) * 1000 : null;
  }

  function tick() {
    raf = requestAnimationFrame(tick);
    if (!video) return;
    let t = mediaClock();
    const first = video.firstTimestamp();
    // No audio to follow (silence, or before the first chunk): run on the page's clock from the first frame.
    if (first !== null && (t === null || (!clock.playing && first > t + 1e6))) {
      anchor = { t: first, at: performance.now() };
      t = first;
    }
    // The first picture is shown as soon as it is decoded (the person sees the replica at once); from then on frames
    // follow the audio clock.
    const shown = stage.classList.contains('has-video');
    if (!shown && first !== null && (t === null || t < first)) t = first;
    if (t !== null && video.render(t) && !shown) {
      stage.classList.add('has-video');
      performance.mark('first-frame'); // for latency measurements (navigation start → first replica frame)
    }
  }

  class VideoPipe {
    constructor(target, onKeyframeNeeded) {
      this.canvas = target;
      this.context = target.getContext('2d');
      this.onKeyframeNeeded = onKeyframeNeeded;
      this.decoder = null;
      this.size = '';
      this.frames = [];
      this.needKey = true;
      this.lastSubmitted = -1;
      this.flushed = null;
      this.lastRequest = -1e9;
    }

    /** A decoder for frames of this size; without a size (`warm`), for the first keyframe, whatever its size. */
    configure(width, height) {
      this.closeDecoder();
      this.decoder = new VideoDecoder({ output: (f) => this.onFrame(f), error: () => this.fail() });
      const size = width ? { codedWidth: width, codedHeight: height } : {};
      this.decoder.configure({ codec: 'vp8', ...size, optimizeForLatency: true });
      this.size = width ? `${width}x${height}` : 'any';
    }

    /** Sets the decoder up before the first frame arrives (its start-up then overlaps the socket's). */
    warm() {
      if (!this.decoder) this.configure(0, 0);
    }

    push(key, width, height, t, data) {
      if (this.needKey && !key) { this.requestKey(); return; }
      const ready = this.decoder && this.decoder.state === 'configured';
      const size = `${width}x${height}`;
      if (key && ready && this.size === 'any') this.size = size;
      if (key && (!ready || this.size !== size)) this.configure(width, height);
      if (!this.decoder || this.decoder.state !== 'configured' || this.decoder.decodeQueueSize > 30) {
        this.needKey = true; // broken or too far behind: start again at the next keyframe
        this.requestKey();
        return;
      }
      try {
        this.decoder.decode(new EncodedVideoChunk({ type: key ? 'key' : 'delta', timestamp: t, data }));
        this.needKey = false;
        this.lastSubmitted = t;
      } catch (_) {
        this.fail();
      }
    }

    fail() {
      this.closeDecoder();
      this.needKey = true;
      this.requestKey();
    }

    requestKey() {
      const now = performance.now();
      if (now - this.lastRequest >= 500) {
        this.lastRequest = now;
        this.onKeyframeNeeded();
      }
    }

    closeDecoder() {
      if (this.decoder && this.decoder.state !== 'closed') {
        try { this.decoder.close(); } catch (_) { /* already closed */ }
      }
      this.decoder = null;
      this.size = '';
    }

    onFrame(frame) {
      markOnce('video-decoded');
      const f = this.flushed;
      if (f && frame.timestamp > f.after && frame.timestamp <= f.until) { frame.close(); return; }
      this.frames.push(frame);
      if (this.frames.length > 120) this.frames.shift().close();
    }

    firstTimestamp() {
      return this.frames.length ? this.frames[0].timestamp : null;
    }

    /** Draws the newest frame due at media time `t` (µs); true when one was drawn. */
    render(t) {
      let pick = -1;
      for (let i = 0; i < this.frames.length && this.frames[i].timestamp <= t; i++) pick = i;
      if (pick < 0) return false;
      const frame = this.frames[pick];
      for (let i = 0; i < pick; i++) this.frames[i].close();
      this.frames.splice(0, pick + 1);
      if (this.canvas.width !== frame.displayWidth || this.canvas.height !== frame.displayHeight) {
        this.canvas.width = frame.displayWidth;
        this.canvas.height = frame.displayHeight;
      }
      this.context.drawImage(frame, 0, 0);
      this.canvas.dataset.mediaTime = (frame.timestamp / 1e6).toFixed(3);
      this.canvas.hidden = false;
      frame.close();
      return true;
    }

    /** Drops frames stamped after `after` (µs) that came before the flush, decoded or not yet. */
    flush(after) {
      this.frames = this.frames.filter((f) => {
        if (f.timestamp > after) { f.close(); return false; }
        return true;
      });
      this.flushed = { after, until: this.lastSubmitted };
    }

    reset() {
      this.frames.forEach((f) => f.close());
      this.frames = [];
      this.closeDecoder();
      this.needKey = true;
      this.flushed = null;
      this.lastSubmitted = -1;
    }
  }

  // ---- conversation events: captions, speaking, the embedding page ------------------------------------------------

  function onConversation(m, p) {
    toParent(m);
    switch (m.event_type) {
      case 'conversation.utterance':
        if (captionsOn && typeof p.speech === 'string' && p.speech.trim()) addCaption(p.role === 'user' ? 'user' : 'replica', p.speech);
        break;
      case 'conversation.replica.started_speaking': stage.classList.add('speaking'); break;
      case 'conversation.replica.stopped_speaking':
      case 'conversation.replica_interrupted': stage.classList.remove('speaking'); break;
      default: break;
    }
  }

  function addCaption(role, text) {
    const line = document.createElement('p');
    line.className = `caption from-${role}`;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = role === 'user' ? 'You' : replica;
    const said = document.createElement('span');
    said.className = 'said';
    said.textContent = text;
    line.append(who, said);
    captionsBox.append(line);
    while (captionsBox.children.length > 3) captionsBox.firstElementChild.remove();
    setTimeout(() => line.remove(), 12000);
  }

  // ---- start ------------------------------------------------------------------------------------------------------

  if (cfg.status === 'ended') {
    finalState = 'ended';
    setState('ended', cfg.shutdown_reason);
  } else {
    const reason = unsupportedReason();
    setState(reason ? 'unsupported' : 'prejoin', reason);
    if (!reason) startPreview();
  }
})();
