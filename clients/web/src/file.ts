// File view: drop a recording, AnalyzeMedia, then its events beside the player, and the summary; or a stored
// result opened from the dashboard (its media plays only when this page still has the file).
import type { Client } from "@connectrpc/connect";
import type { LaughterAnalysisService } from "./gen/laughter/v1/laughter_service_pb";
import type { AnalysisResult } from "./gen/laughter/v1/summary_pb";
import { ResultKind, type StoredResult } from "./gen/laughter/v1/results_pb";
import type { LaughterEvent } from "./gen/laughter/v1/analysis_pb";
import { h, seconds, explain, showError, clearError, eventRow, eventsTable, summaryView, fmt, typeName } from "./render";

type Api = Client<typeof LaughterAnalysisService>;

export interface FileView {
  el: HTMLElement;
  showStored: (stored: StoredResult) => void;
}

export function fileView(api: Api, server: string, maxBytes: () => number): FileView {
  const input = h("input", { type: "file", accept: "video/*,audio/*", "data-testid": "file-input" });
  const drop = h("label", { class: "drop", "data-testid": "drop-zone" }, "Drop a recording here, or click to choose one", input);
  const errors = h("div", {});
  const progress = h("progress", { max: 100, value: 0, hidden: true });
  const status = h("p", { "data-testid": "file-status" });
  const player = h("video", { controls: true, class: "player", "data-testid": "player" });
  const noMedia = h("p", { class: "warning", "data-testid": "media-not-kept", hidden: true });
  const analysed = new Map<string, File>(); // result id → the file this page analysed
  const track = h("div", { class: "track", "data-testid": "file-timeline" });
  const { table, body } = eventsTable("file-events");
  const summary = h("div", {});
  const results = h("div", { class: "results", hidden: true }, h("div", { class: "media" }, player, noMedia, track), h("div", {}, table));

  const seek = (ev: LaughterEvent) => {
    player.currentTime = seconds(ev.startOffset);
    void player.play().catch(() => undefined);
  };

  async function analyse(file: File): Promise<void> {
    clearError(errors);
    summary.replaceChildren();
    body.replaceChildren();
    track.replaceChildren();
    results.hidden = true;
    if (file.size > maxBytes()) {
      showError(errors, `${file.name} is ${fmt(file.size / 1e6, 1)} MB; the server takes files up to ${fmt(maxBytes() / 1e6, 0)} MB. Cut it shorter, or use the laughter CLI, which uploads in pieces.`);
      return;
    }
    progress.hidden = false;
    progress.value = 0;
    const content = await read(file, (f) => {
      progress.value = f * 30;
      status.textContent = `reading ${file.name}: ${fmt(f * 100, 0)}%`;
    });
    const started = performance.now();
    const ticker = window.setInterval(() => {
      const s = (performance.now() - started) / 1000;
      progress.value = Math.min(95, 30 + s * 4);
      status.textContent = `uploading and analysing ${file.name} (${fmt(s, 0)} s)…`;
    }, 250);
    try {
      const reply = await api.analyzeMedia({ content, filename: file.name });
      if (reply.result) {
        const id = reply.result.summary?.resultId;
        if (id) analysed.set(id, file);
        show(file, reply.result);
      }
      progress.value = 100;
      status.textContent = `${file.name}: analysed in ${fmt((performance.now() - started) / 1000, 1)} s`;
    } catch (err) {
      status.textContent = `${file.name} was not analysed.`;
      showError(errors, explain(err, server));
    } finally {
      clearInterval(ticker);
      progress.hidden = true;
    }
  }

  function show(file: File | undefined, result: AnalysisResult): void {
    clearError(errors);
    body.replaceChildren();
    track.replaceChildren();
    results.hidden = false;
    if (player.src) URL.revokeObjectURL(player.src);
    player.hidden = !file;
    noMedia.hidden = !!file;
    if (file) player.src = URL.createObjectURL(file);
    else player.removeAttribute("src");
    const onClick = file ? seek : undefined;
    const total = seconds(result.summary?.media?.mediaDuration) || 1;
    for (const ev of result.events) {
      body.append(eventRow(ev, "ENDED", onClick));
      const s = seconds(ev.startOffset);
      const e = seconds(ev.endOffset);
      track.append(
        h("button", {
          class: "span",
          title: `${fmt(s)}–${fmt(e)} s ${typeName(ev.laughterType)} (${fmt(ev.confidence)})`,
          style: `left:${(s / total) * 100}%;width:${Math.max(0.5, ((e - s) / total) * 100)}%`,
          onclick: () => onClick?.(ev),
        }),
      );
    }
    const cursor = h("i", { class: "cursor" });
    track.append(cursor);
    player.ontimeupdate = () => (cursor.style.left = `${(player.currentTime / total) * 100}%`);
    summary.replaceChildren(...(result.summary ? [summaryView(result.summary)] : []));
  }

  input.addEventListener("change", () => input.files?.[0] && void analyse(input.files[0]));
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer?.files[0];
    if (file) void analyse(file);
  });

  function showStored(stored: StoredResult): void {
    const result = stored.result;
    if (!result) return;
    const name = "the recording";
    const when = stored.createTime ? new Date(Number(stored.createTime.seconds) * 1000).toLocaleString() : "";
    const file = analysed.get(stored.resultId);
    noMedia.textContent = stored.kind === ResultKind.SESSION
      ? "The server does not keep media: a live session's camera and microphone are not recorded."
      : `The server does not keep media: drop ${name} here again to play it beside its events.`;
    show(file, result);
    status.textContent = `stored result ${stored.resultId} (${name}, ${when})` + (stored.eventsComplete ? "" : `: the first ${result.events.length} of ${stored.eventCount} events`);
    status.dataset.resultId = stored.resultId;
  }

  const el = h("section", { class: "view", "data-testid": "file" }, drop, errors, progress, status, results, summary);
  return { el, showStored };
}

function read(file: File, onProgress: (fraction: number) => void): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    reader.onload = () => resolve(new Uint8Array(reader.result as ArrayBuffer));
    reader.onerror = () => reject(new Error(`${file.name} could not be read`));
    reader.readAsArrayBuffer(file);
  });
}
