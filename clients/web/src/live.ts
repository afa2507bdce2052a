// Live view: camera and microphone → a session (CreateSession / AppendSessionMedia / WatchSession / EndSession).
import type { Client } from "@connectrpc/connect";
import { EventPhase, DropReason, type SessionUpdate, type Progress } from "./gen/laughter/v1/session_pb";
import { AudioEncoding, FrameEncoding, type MediaChunkJson } from "./media";
import type { LaughterAnalysisService } from "./gen/laughter/v1/laughter_service_pb";
import type { FaceEmotionSample } from "./gen/laughter/v1/analysis_pb";
import { h, seconds, duration, explain, showError, clearError, eventRow, eventsTable, summaryView, emotionName, fmt } from "./render";

type Api = Client<typeof LaughterAnalysisService>;
const SEND_EVERY_MS = 150;
const TIMELINE_S = 30;

export interface LiveStats {
  latenciesMs: number[];
  lagS: number[]; // media time minus the server's processed offset, at each progress update
  appendMs: number[]; // round trip of each AppendSessionMedia call
  phases: { phase: string; eventId: string; start: number; end: number; drawnMs: number }[];
}

export function liveView(api: Api, server: string): HTMLElement {
  const video = h("video", { autoplay: true, muted: true, playsinline: true, "data-testid": "preview" });
  const overlay = h("canvas", { class: "overlay" });
  const timeline = h("canvas", { class: "timeline", width: 900, height: 120, "data-testid": "timeline" });
  const errors = h("div", {});
  const counters = h("p", { class: "counters", "data-testid": "counters" }, "not started");
  const clock = h("span", { "data-testid": "media-time", "data-seconds": "0" }, "0.0 s");
  const { table, body } = eventsTable("live-events");
  const summary = h("div", {});
  const start = h("button", { "data-testid": "live-start" }, "Start camera and microphone");
  const stop = h("button", { "data-testid": "live-stop", disabled: true }, "Stop and summarise");
  const stats: LiveStats = { latenciesMs: [], lagS: [], appendMs: [], phases: [] };
  (window as unknown as { laughterLive: LiveStats }).laughterLive = stats;

  let running: Running | null = null;
  let sessionClock: Running | null = null; // the last session's capture clock, kept after Stop for late updates
  start.addEventListener("click", async () => {
    clearError(errors);
    summary.replaceChildren();
    body.replaceChildren();
    rows.clear();
    scores.length = 0;
    spans.clear();
    open.clear();
    stats.latenciesMs.length = 0;
    stats.phases.length = 0;
    stats.lagS.length = 0;
    stats.appendMs.length = 0;
    start.disabled = true;
    try {
      running = await Running.open(api, video, {
        onUpdate: (u) => handle(u),
        onProgress: (p) => showProgress(p),
        onError: (message) => showError(errors, message),
        onAppend: (ms) => stats.appendMs.push(ms),
        server,
      });
      sessionClock = running;
      stop.disabled = false;
      tick();
    } catch (err) {
      start.disabled = false;
      showError(errors, mediaError(err) ?? explain(err, server));
    }
  });
  stop.addEventListener("click", async () => {
    if (!running) return;
    stop.disabled = true;
    const r = running;
    running = null;
    try {
      const final = await r.end();
      if (final.summary) summary.replaceChildren(summaryView(final.summary));
    } catch (err) {
      showError(errors, explain(err, server));
    } finally {
      start.disabled = false;
    }
  });

  const rows = new Map<string, HTMLTableRowElement>();
  const scores: [number, number][] = [];
  const spans = new Map<string, [number, number]>();
  const faces = new Map<number, FaceEmotionSample>();
  const open = new Map<string, number>(); // events not ended yet → their latest confidence

  function handle(u: SessionUpdate): void {
    const up = u.update;
    if (up.case === "event" && up.value.event) {
      const ev = up.value.event;
      const phase = EventPhase[up.value.phase] ?? "?";
      const row = eventRow(ev, phase);
      const old = rows.get(ev.eventId);
      if (old) old.replaceWith(row);
      else body.prepend(row);
      rows.set(ev.eventId, row);
      const s = seconds(ev.startOffset);
      const e = seconds(ev.endOffset);
      spans.set(ev.eventId, [s, e]);
      scores.push([seconds(up.value.processedOffset) || e, ev.confidence]);
      if (up.value.phase === EventPhase.ENDED) open.delete(ev.eventId);
      else open.set(ev.eventId, ev.confidence);
      if (sessionClock && up.value.phase !== EventPhase.ONGOING) {
        // Media captured (the event's start for STARTED, its end for ENDED) → the next frame painted with it.
        const captured = sessionClock.capturedAt(up.value.phase === EventPhase.STARTED ? s : e);
        requestAnimationFrame(() => {
          const latency = performance.now() - captured;
          stats.latenciesMs.push(latency);
          stats.phases.push({ phase, eventId: ev.eventId, start: s, end: e, drawnMs: latency });
        });
      } else {
        stats.phases.push({ phase, eventId: ev.eventId, start: s, end: e, drawnMs: NaN });
      }
    } else if (up.case === "faceSample") {
      faces.set(up.value.faceId, up.value);
    } else if (up.case === "progress") {
      showProgress(up.value);
      if (running) stats.lagS.push(running.mediaTime() - seconds(up.value.processedOffset));
      scores.push([seconds(up.value.processedOffset), Math.max(0, ...open.values())]);
    } else if (up.case === "warning") {
      errors.append(h("div", { class: "warning", "data-testid": "warning" }, up.value.message));
    } else if (up.case === "summary") {
      summary.replaceChildren(summaryView(up.value));
    }
  }

  function showProgress(p: Progress): void {
    const drops = p.drops.map((d) => `${DropReason[d.reason]?.toLowerCase()}: ${d.frameCount} frames, ${d.audioChunkCount} audio`).join("; ");
    counters.textContent =
      `analysed to ${fmt(seconds(p.processedOffset), 1)} s · frames ${p.framesAnalyzed}/${p.framesReceived} ` +
      `(dropped ${p.framesDropped}) · backlog ${fmt(seconds(p.backlog), 1)} s · events ended ${p.eventsEnded}` +
      (drops ? ` · ${drops}` : "");
  }

  function tick(): void {
    if (!running) return;
    const now = running.mediaTime();
    clock.textContent = `${fmt(now, 1)} s`;
    clock.dataset.seconds = fmt(now, 2);
    drawOverlay(overlay, video, faces, now);
    drawTimeline(timeline, now, scores, spans);
    requestAnimationFrame(tick);
  }

  return h(
    "section",
    { class: "view", "data-testid": "live" },
    h("div", { class: "controls" }, start, stop, h("span", { class: "clock" }, "media time ", clock)),
    errors,
    h("div", { class: "stage" }, video, overlay),
    timeline,
    counters,
    table,
    summary,
  );
}

function mediaError(err: unknown): string | null {
  if (!(err instanceof DOMException)) return null;
  if (err.name === "NotAllowedError" || err.name === "SecurityError")
    return "Camera or microphone access was denied. Allow both for this site in the browser's site settings (the icon left of the address), then press Start again.";
  if (err.name === "NotFoundError") return "No camera or microphone was found. Connect one and press Start again.";
  if (err.name === "NotReadableError") return "The camera or microphone is in use by another program. Close it and press Start again.";
  return `The camera or microphone could not be opened (${err.name}).`;
}

interface Hooks {
  onUpdate: (u: SessionUpdate) => void;
  onProgress: (p: Progress) => void;
  onError: (message: string) => void;
  onAppend: (ms: number) => void;
  server: string;
}

/** One open session: capture timers, the send queue and the watch stream. */
class Running {
  private queue: MediaChunkJson[] = [];
  private sending = false;
  private encoding = false;
  private timers: number[] = [];
  private t0 = 0;
  private samples = 0;
  private ended = false;
  private watching: Promise<void> = Promise.resolve();

  private constructor(
    private api: Api,
    private sessionId: string,
    private stream: MediaStream,
    private audio: AudioContext,
    private hooks: Hooks,
  ) {}

  static async open(api: Api, video: HTMLVideoElement, hooks: Hooks): Promise<Running> {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 } }, audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    const t0 = performance.now();
    video.srcObject = stream;
    await video.play().catch(() => undefined);
    const settings = stream.getVideoTracks()[0]?.getSettings() ?? {};
    const width = settings.width ?? 640;
    const height = settings.height ?? 480;
    let created;
    try {
      created = await api.createSession({
        config: {
          video: { encoding: FrameEncoding.JPEG, width, height },
          audio: { encoding: AudioEncoding.PCM_S16LE, sampleRateHertz: 16000, channelCount: 1 },
          options: { includeFaceSamples: true },
          progressInterval: duration(1),
        },
      });
    } catch (err) {
      stream.getTracks().forEach((t) => t.stop());
      throw err;
    }
    const audio = new AudioContext();
    const r = new Running(api, created.sessionId, stream, audio, hooks);
    r.t0 = t0;
    r.watching = r.watch();
    const rate = created.started?.effectiveOptions?.analysisFrameRateHertz || 5;
    await r.startAudio();
    r.startVideo(video, rate, width, height);
    return r;
  }

  /** performance.now() at which media time ``offset`` was captured. */
  capturedAt(offset: number): number {
    return this.t0 + offset * 1000;
  }

  mediaTime(): number {
    return (performance.now() - this.t0) / 1000;
  }

  private async startAudio(): Promise<void> {
    const url = new URL("./audio-worklet.js", import.meta.url);
    await this.audio.audioWorklet.addModule(url);
    const source = this.audio.createMediaStreamSource(this.stream);
    const node = new AudioWorkletNode(this.audio, "pcm16k");
    const startOffset = this.mediaTime();
    node.port.onmessage = (msg: MessageEvent<ArrayBuffer>) => {
      if (this.ended) return;
      const offset = startOffset + this.samples / 16000;
      this.samples += msg.data.byteLength / 2;
      this.queue.push({ chunk: { case: "audio", value: { data: new Uint8Array(msg.data), captureOffset: duration(offset) } } });
    };
    source.connect(node);
    node.connect(this.audio.destination);
    await this.audio.resume();
  }

  private startVideo(video: HTMLVideoElement, rate: number, width: number, height: number): void {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const g = canvas.getContext("2d")!;
    this.timers.push(
      window.setInterval(() => {
        // One frame in encoding at a time, so that frames reach the queue in capture order.
        if (this.ended || this.encoding || video.readyState < 2) return;
        this.encoding = true;
        const offset = this.mediaTime();
        g.drawImage(video, 0, 0, width, height);
        canvas.toBlob(
          async (blob) => {
            if (blob && !this.ended) {
              const data = new Uint8Array(await blob.arrayBuffer());
              this.queue.push({ chunk: { case: "frame", value: { data, captureOffset: duration(offset) } } });
            }
            this.encoding = false;
          },
          "image/jpeg",
          0.8,
        );
      }, 1000 / rate),
      window.setInterval(() => void this.flush(), SEND_EVERY_MS),
    );
  }

  private async flush(): Promise<void> {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    const chunks = this.queue.splice(0, this.queue.length);
    const sent = performance.now();
    try {
      const reply = await this.api.appendSessionMedia({ sessionId: this.sessionId, chunks });
      this.hooks.onAppend(performance.now() - sent);
      if (reply.progress) this.hooks.onProgress(reply.progress);
    } catch (err) {
      this.hooks.onError(explain(err, this.hooks.server));
    } finally {
      this.sending = false;
    }
  }

  private async watch(): Promise<void> {
    try {
      for await (const reply of this.api.watchSession({ sessionId: this.sessionId })) {
        if (reply.update) this.hooks.onUpdate(reply.update);
      }
    } catch (err) {
      if (!this.ended) this.hooks.onError(explain(err, this.hooks.server));
    }
  }

  async end() {
    this.timers.forEach((t) => clearInterval(t));
    while (this.sending) await new Promise((r) => setTimeout(r, 20));
    await this.flush();
    this.ended = true;
    this.stream.getTracks().forEach((t) => t.stop());
    await this.audio.close();
    const final = await this.api.endSession({ sessionId: this.sessionId });
    await this.watching;
    return final;
  }
}

function drawOverlay(canvas: HTMLCanvasElement, video: HTMLVideoElement, faces: Map<number, FaceEmotionSample>, now: number): void {
  const w = video.clientWidth;
  const hgt = video.clientHeight;
  if (canvas.width !== w || canvas.height !== hgt) {
    canvas.width = w;
    canvas.height = hgt;
  }
  const g = canvas.getContext("2d")!;
  g.clearRect(0, 0, w, hgt);
  g.lineWidth = 2;
  g.font = "14px system-ui, sans-serif";
  for (const [id, f] of faces) {
    if (now - seconds(f.offset) > 1.5 || !f.box) {
      faces.delete(id);
      continue;
    }
    const x = f.box.left * w;
    const y = f.box.top * hgt;
    g.strokeStyle = "#ffd400";
    g.strokeRect(x, y, (f.box.right - f.box.left) * w, (f.box.bottom - f.box.top) * hgt);
    g.fillStyle = "#ffd400";
    g.fillText(`face ${id}: ${emotionName(f.dominantEmotion)}`, x, Math.max(14, y - 4));
  }
}

function drawTimeline(canvas: HTMLCanvasElement, now: number, scores: [number, number][], spans: Map<string, [number, number]>): void {
  const g = canvas.getContext("2d")!;
  const { width: w, height: hgt } = canvas;
  const from = Math.max(0, now - TIMELINE_S);
  const x = (t: number) => ((t - from) / TIMELINE_S) * w;
  g.clearRect(0, 0, w, hgt);
  g.fillStyle = "rgba(255, 140, 0, 0.25)";
  for (const [s, e] of spans.values()) if (e >= from) g.fillRect(x(s), 0, Math.max(2, x(e) - x(s)), hgt);
  g.strokeStyle = "#c05800";
  g.beginPath();
  let first = true;
  for (const [t, v] of scores) {
    if (t < from) continue;
    const px = x(t);
    const py = hgt - 4 - v * (hgt - 8);
    if (first) g.moveTo(px, py);
    else g.lineTo(px, py);
    first = false;
  }
  g.stroke();
  g.fillStyle = "#666";
  g.font = "11px system-ui, sans-serif";
  for (let t = Math.ceil(from / 5) * 5; t <= now; t += 5) g.fillText(`${t} s`, x(t) + 2, hgt - 2);
}
