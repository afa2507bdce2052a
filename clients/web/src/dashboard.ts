// Dashboard view: analytics over the stored results of a time range (GetAnalytics, GetPerformanceStats) and
// the recent results (ListResults, paged); a result opens in the File view (GetResult).
import type { Client } from "@connectrpc/connect";
import { timestampFromMs, timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { LaughterAnalysisService } from "./gen/laughter/v1/laughter_service_pb";
import { ResultKind, type GetAnalyticsResponse, type GetPerformanceStatsResponse, type StoredResult, type TimeBucket } from "./gen/laughter/v1/results_pb";
import { LaughterType } from "./gen/laughter/v1/analysis_pb";
import { h, seconds, duration, explain, showError, clearError, fmt, typeName, emotionName } from "./render";
import { columns, stacked, line, PALETTE, type Point } from "./charts";

type Api = Client<typeof LaughterAnalysisService>;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const PAGE_SIZE = 8;
const RANGES: Record<string, { label: string; spanMs: number; bucketMs: number }> = {
  hour: { label: "last hour", spanMs: HOUR, bucketMs: 5 * MINUTE },
  day: { label: "last 24 hours", spanMs: DAY, bucketMs: HOUR },
  week: { label: "last 7 days", spanMs: 7 * DAY, bucketMs: 6 * HOUR },
  month: { label: "last 30 days", spanMs: 30 * DAY, bucketMs: DAY },
};

interface Range {
  startMs: number;
  endMs: number;
  bucketMs: number;
  hours: number | null; // the GetPerformanceStats window for the preset ranges
}

const n = (x: bigint | number) => Number(x);
const ts = (t: Timestamp | undefined) => (t ? timestampMs(t) : 0);
const localInput = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * MINUTE).toISOString().slice(0, 16);

function bucketLabel(startMs: number, bucketMs: number): string {
  const d = new Date(startMs);
  if (bucketMs >= DAY) return d.toISOString().slice(5, 10);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function dashboardView(api: Api, server: string, open: (stored: StoredResult) => void): { el: HTMLElement; refresh: () => Promise<void> } {
  const choice = h("select", { "data-testid": "dash-range" });
  for (const [key, r] of Object.entries(RANGES)) choice.append(h("option", { value: key }, r.label));
  choice.append(h("option", { value: "custom" }, "custom…"));
  choice.value = "day";
  const from = h("input", { type: "datetime-local", "data-testid": "dash-from", hidden: true });
  const to = h("input", { type: "datetime-local", "data-testid": "dash-to", hidden: true });
  const reload = h("button", { "data-testid": "dash-refresh" }, "Refresh");
  const errors = h("div", {});
  const status = h("p", { class: "counters", "data-testid": "dash-status" });
  const figures = h("div", { class: "figures" });
  const charts = h("div", { class: "charts" });
  const recent = h("div", {});
  let pageTokens: string[] = [""];

  choice.addEventListener("change", () => {
    const custom = choice.value === "custom";
    from.hidden = to.hidden = !custom;
    if (custom && !from.value) {
      const now = Date.now();
      from.value = localInput(now - DAY);
      to.value = localInput(now + MINUTE);
    }
    void refresh();
  });
  for (const el of [from, to]) el.addEventListener("change", () => void refresh());
  reload.addEventListener("click", () => void refresh());

  function range(): Range | string {
    const now = Date.now();
    const preset = RANGES[choice.value];
    if (preset) return { startMs: now - preset.spanMs, endMs: now + MINUTE, bucketMs: preset.bucketMs, hours: preset.spanMs / HOUR };
    const startMs = new Date(from.value).getTime();
    const endMs = new Date(to.value).getTime();
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs <= startMs) return "Choose a start before the end of the custom range.";
    const steps = [MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR, 6 * HOUR, DAY, 7 * DAY];
    const bucketMs = steps.find((s) => (endMs - startMs) / s <= 48) ?? 30 * DAY;
    return { startMs, endMs, bucketMs, hours: null };
  }

  async function refresh(): Promise<void> {
    clearError(errors);
    const r = range();
    if (typeof r === "string") {
      showError(errors, r);
      return;
    }
    status.textContent = "loading…";
    const filter = { startTime: timestampFromMs(r.startMs), endTime: timestampFromMs(r.endMs) };
    try {
      const [analytics, daily, performance] = await Promise.all([
        api.getAnalytics({ filter, bucketWidth: duration(r.bucketMs / 1000) }, { timeoutMs: 30_000 }),
        r.bucketMs === DAY ? null : api.getAnalytics({ filter, bucketWidth: duration(DAY / 1000) }, { timeoutMs: 30_000 }),
        r.hours === null ? null : api.getPerformanceStats({ hours: Math.ceil(r.hours) }, { timeoutMs: 30_000 }),
      ]);
      pageTokens = [""];
      draw(analytics, daily ?? analytics, performance, r);
      await list(r, 0);
      status.textContent = `${new Date(r.startMs).toLocaleString()} – ${new Date(r.endMs).toLocaleString()}, updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      status.textContent = "The dashboard could not be loaded.";
      figures.replaceChildren();
      charts.replaceChildren();
      recent.replaceChildren();
      showError(errors, explain(err, server));
    }
  }

  function draw(a: GetAnalyticsResponse, daily: GetAnalyticsResponse, perf: GetPerformanceStatsResponse | null, r: Range): void {
    const media = seconds(a.mediaDuration);
    figures.replaceChildren(
      figure("results", n(a.resultCount), String(n(a.resultCount))),
      figure("events", n(a.eventCount), String(n(a.eventCount))),
      figure("media", media, `${fmt(media / 60, 1)} min`),
      figure("laughs per minute", media ? (n(a.eventCount) * 60) / media : 0, fmt(media ? (n(a.eventCount) * 60) / media : 0)),
    );
    if (!n(a.resultCount)) {
      charts.replaceChildren(
        h(
          "div",
          { class: "empty", "data-testid": "dash-empty" },
          h("p", {}, "No results in this range yet."),
          h("p", {}, "Analyse a recording in the File view, run a live session, or use `laughter analyze FILE` with the SDK; the server stores each result and it shows here. Widen the range to see older ones."),
        ),
      );
      return;
    }
    const byType = a.laughterTypes.map((t) => t.laughterType);
    const labels = a.buckets.map((b) => bucketLabel(ts(b.startTime), r.bucketMs));
    const typeSeries = byType.map((t) => ({ name: typeName(t), values: a.buckets.map((b) => countOf(b, t)) }));
    const emotions = [...a.emotions].sort((x, y) => y.meanScore - x.meanScore);
    const perMinute: Point[] = daily.buckets.map((b) => ({
      label: bucketLabel(ts(b.startTime), DAY),
      value: b.laughsPerMinute,
      title: `${new Date(ts(b.startTime)).toISOString().slice(0, 10)}: ${fmt(b.laughsPerMinute)} per minute, ${n(b.eventCount)} events in ${n(b.resultCount)} results`,
    }));
    const confidence: Point[] = a.buckets.map((b, i) => ({ label: labels[i] ?? "", value: b.meanConfidence, title: `${labels[i]}: mean confidence ${fmt(b.meanConfidence)} over ${n(b.resultCount)} results` }));
    charts.replaceChildren(
      card(
        "Emotion distribution",
        emotions.length
          ? h("div", { class: "bars", "data-testid": "dash-emotions" }, ...emotions.map((e) => bar(emotionName(e.emotion), e.meanScore, fmt(e.meanScore), { "data-emotion": emotionName(e.emotion) })))
          : h("p", {}, "no faces in these results"),
      ),
      card(
        "Laughter types",
        byType.length
          ? h(
              "div",
              { class: "bars", "data-testid": "dash-types" },
              ...a.laughterTypes.map((t, k) =>
                bar(typeName(t.laughterType), n(t.eventCount) / Math.max(1, n(a.eventCount)), `${n(t.eventCount)} (${fmt(seconds(t.totalDuration), 1)} s)`, {
                  "data-type": LaughterType[t.laughterType] ?? "",
                  "data-count": n(t.eventCount),
                  style: `--c:${PALETTE[k % PALETTE.length]}`,
                }),
              ),
            )
          : h("p", {}, "no laughter in these results"),
      ),
      card(`Laughter types over time (per ${span(r.bucketMs)})`, byType.length ? stacked("dash-types-over-time", labels, typeSeries) : h("p", {}, "no laughter in these results")),
      card("Laughs per minute by day (UTC days)", columns("dash-per-day", perMinute, (v) => fmt(v, 1))),
      card(`Confidence trend (mean per ${span(r.bucketMs)})`, line("dash-confidence", confidence, 1, (v) => fmt(v, 1))),
      card("Model performance", models(a, perf)),
    );
  }

  async function list(r: Range, page: number): Promise<void> {
    const filter = { startTime: timestampFromMs(r.startMs), endTime: timestampFromMs(r.endMs) };
    const reply = await api.listResults({ filter, pageSize: PAGE_SIZE, pageToken: pageTokens[page] ?? "" }, { timeoutMs: 30_000 });
    if (reply.nextPageToken) pageTokens[page + 1] = reply.nextPageToken;
    const rows = reply.results.map((s) => {
      const summary = s.result?.summary;
      const row = h(
        "tr",
        { class: "clickable", "data-result-id": s.resultId, title: "open in the File view" },
        h("td", {}, new Date(ts(s.createTime)).toLocaleString()),
        h("td", {}, s.kind === ResultKind.SESSION ? "live session" : "file"),
        h("td", {}, mediaText(s)),
        h("td", {}, `${fmt(seconds(summary?.media?.mediaDuration), 1)} s`),
        h("td", {}, s.eventCount),
        h("td", {}, typeName(summary?.dominantLaughterType ?? 0)),
        h("td", {}, s.audioModelVersion || "—"),
      );
      row.addEventListener("click", () => void openResult(s.resultId));
      return row;
    });
    const older = h("button", { "data-testid": "dash-older", disabled: !reply.nextPageToken, onclick: () => void list(r, page + 1).catch((e) => showError(errors, explain(e, server))) }, "Older");
    const newer = h("button", { "data-testid": "dash-newer", disabled: page === 0, onclick: () => void list(r, page - 1).catch((e) => showError(errors, explain(e, server))) }, "Newer");
    recent.replaceChildren(
      h("h3", {}, "Recent results"),
      rows.length
        ? h(
            "table",
            { class: "recent", "data-testid": "dash-recent" },
            h("thead", {}, h("tr", {}, ...["stored", "kind", "media", "length", "events", "laughter", "audio model"].map((c) => h("th", {}, c)))),
            h("tbody", {}, ...rows),
          )
        : h("p", { "data-testid": "dash-recent-empty" }, "No stored results in this range."),
      h("div", { class: "controls" }, newer, older, h("span", { class: "clock" }, `page ${page + 1}`)),
    );
  }

  async function openResult(resultId: string): Promise<void> {
    clearError(errors);
    try {
      const reply = await api.getResult({ resultId }, { timeoutMs: 30_000 });
      if (reply.result) open(reply.result);
    } catch (err) {
      showError(errors, explain(err, server));
    }
  }

  const el = h(
    "section",
    { class: "view", "data-testid": "dashboard" },
    h("div", { class: "controls" }, h("label", {}, "Range ", choice), from, to, reload),
    errors,
    status,
    figures,
    charts,
    recent,
  );
  return { el, refresh };
}

function mediaText(s: StoredResult): string {
  const m = s.result?.summary?.media;
  if (!m) return "—";
  const parts = [m.hasVideo ? `video ${m.videoWidth}×${m.videoHeight}` : "", m.hasAudio ? "audio" : ""];
  return (parts.filter(Boolean).join(" + ") || "no streams") + (s.clientId ? ` (${s.clientId})` : "");
}

function countOf(b: TimeBucket, t: LaughterType): number {
  const found = b.laughterTypes.find((x) => x.laughterType === t);
  return found ? Number(found.eventCount) : 0;
}

function span(ms: number): string {
  if (ms % DAY === 0) return ms === DAY ? "day" : `${ms / DAY} days`;
  if (ms % HOUR === 0) return ms === HOUR ? "hour" : `${ms / HOUR} hours`;
  return `${Math.round(ms / MINUTE)} min`;
}

function figure(name: string, value: number, text: string): HTMLElement {
  return h("div", { class: "figure", "data-testid": `dash-figure-${name.replace(/ /g, "-")}`, "data-value": value }, h("b", {}, text), h("span", {}, name));
}

function bar(label: string, share: number, text: string, attrs: Record<string, string | number>): HTMLElement {
  return h("div", { class: "bar", ...attrs }, h("span", {}, label), h("i", { style: `width:${Math.max(1, share * 100)}%` }), h("b", {}, text));
}

function card(title: string, body: Node): HTMLElement {
  return h("div", { class: "card" }, h("h4", {}, title), body);
}

function models(a: GetAnalyticsResponse, perf: GetPerformanceStatsResponse | null): HTMLElement {
  const table = h(
    "table",
    { "data-testid": "dash-models" },
    h("thead", {}, h("tr", {}, ...["audio model", "results", "with laughter", "confidence", "p50", "p95"].map((c) => h("th", {}, c)))),
    h(
      "tbody",
      {},
      ...a.modelVersions.map((v) =>
        h(
          "tr",
          { "data-version": v.audioModelVersion },
          h("td", {}, v.audioModelVersion || "—"),
          h("td", {}, n(v.resultCount)),
          h("td", {}, `${fmt(v.detectionRate * 100, 0)}%`),
          h("td", {}, fmt(v.meanConfidence)),
          h("td", {}, fmt(v.processingPerMediaSecondP50, 3)),
          h("td", {}, fmt(v.processingPerMediaSecondP95, 3)),
        ),
      ),
    ),
  );
  const note = h("p", { class: "counters" }, "p50 / p95: processing seconds per second of media.");
  if (!perf) return h("div", {}, table, note);
  const media = seconds(perf.mediaDuration);
  const work = seconds(perf.processingDuration);
  const line = `Server, same window: ${n(perf.resultCount)} results, ${fmt(media, 1)} s of media analysed in ${fmt(work, 1)} s` + (media ? ` (${fmt(work / media, 3)} s per media s).` : ".");
  return h("div", {}, table, note, h("p", { class: "counters", "data-testid": "dash-performance" }, line));
}
