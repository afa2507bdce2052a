// DOM helpers and the views both pages share: events table, summary tables, error banner.
import type { Duration } from "@bufbuild/protobuf/wkt";
import { ConnectError, Code } from "@connectrpc/connect";
import { Emotion, LaughterType, type LaughterEvent } from "./gen/laughter/v1/analysis_pb";
import type { AnalysisSummary } from "./gen/laughter/v1/summary_pb";
import { NoticeCode } from "./gen/laughter/v1/summary_pb";

type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | EventListener> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (typeof value === "function") el.addEventListener(key.replace(/^on/, ""), value);
    else if (value === false) continue;
    else if (key === "class") el.className = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function seconds(d: Duration | undefined): number {
  return d ? Number(d.seconds) + d.nanos / 1e9 : 0;
}

export function duration(s: number): { seconds: bigint; nanos: number } {
  const whole = Math.floor(s);
  return { seconds: BigInt(whole), nanos: Math.round((s - whole) * 1e9) };
}

const words = (text: string) => text.toLowerCase().replace(/_/g, " ");
export const emotionName = (e: Emotion) => (e ? words(Emotion[e] ?? "unknown") : "—");
export const typeName = (t: LaughterType) => (t ? words(LaughterType[t] ?? "unknown") : "—");
export const fmt = (x: number, digits = 2) => x.toFixed(digits);

/** The message a person can act on for a failed call. */
export function explain(err: unknown, server: string): string {
  const e = ConnectError.from(err);
  // A fetch that never reached a server (refused, reset, offline) surfaces as a TypeError from fetch().
  if ((e.code === Code.Unknown || e.code === Code.Unavailable) && /failed to fetch|networkerror|load failed|network/i.test(e.rawMessage)) {
    return `The server at ${server} cannot be reached. Start it with \`laughter-server --web-listen ${server}\` (or \`make demo\`) and try again.`;
  }
  if (e.code === Code.Unauthenticated) {
    return `${e.rawMessage}. Enter the access token in the field at the top and try again.`;
  }
  return e.rawMessage || `The call failed (${Code[e.code]}).`;
}

export function showError(target: HTMLElement, message: string): void {
  target.replaceChildren(h("div", { class: "error", role: "alert", "data-testid": "error" }, message));
}

export function clearError(target: HTMLElement): void {
  target.replaceChildren();
}

export function eventRow(ev: LaughterEvent, phase: string, onClick?: (ev: LaughterEvent) => void): HTMLTableRowElement {
  const start = seconds(ev.startOffset);
  const end = seconds(ev.endOffset);
  const row = h(
    "tr",
    {
      "data-event-id": ev.eventId,
      "data-phase": phase,
      "data-start": fmt(start, 3),
      "data-end": fmt(end, 3),
      class: onClick ? "clickable" : "",
    },
    h("td", {}, phase),
    h("td", {}, `${fmt(start)} – ${fmt(end)} s`),
    h("td", {}, typeName(ev.laughterType)),
    h("td", {}, fmt(ev.confidence)),
    h("td", {}, ev.faceId === undefined ? "—" : `face ${ev.faceId}`),
  );
  if (onClick) row.addEventListener("click", () => onClick(ev));
  return row;
}

export function eventsTable(testid: string): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const body = h("tbody", {});
  const table = h(
    "table",
    { class: "events", "data-testid": testid },
    h("thead", {}, h("tr", {}, h("th", {}, "phase"), h("th", {}, "time"), h("th", {}, "type"), h("th", {}, "confidence"), h("th", {}, "face"))),
    body,
  );
  return { table, body };
}

function bars(rows: [string, number, string][]): HTMLElement {
  return h(
    "div",
    { class: "bars" },
    ...rows.map(([label, value, text]) =>
      h("div", { class: "bar" }, h("span", {}, label), h("i", { style: `width:${Math.max(1, value * 100)}%` }), h("b", {}, text)),
    ),
  );
}

/** The summary: durations and laughs per minute with its interval, emotions, laughter types, faces, notices. */
export function summaryView(s: AnalysisSummary): HTMLElement {
  const d = s.durations;
  const ci = d?.laughsPerMinuteCi;
  const perMinute = d
    ? `${fmt(d.laughsPerMinute)} per minute` + (ci ? ` (${Math.round((ci.level || 0.95) * 100)}% interval ${fmt(ci.lower)}–${fmt(ci.upper)})` : "")
    : "—";
  const emotions = [...s.emotionBreakdown].sort((a, b) => b.score - a.score);
  const totalType = s.typeCounts.reduce((n, t) => n + t.eventCount, 0) || 1;
  return h(
    "section",
    { class: "summary", "data-testid": "summary", "data-event-count": d?.eventCount ?? 0 },
    h("h3", {}, "Summary"),
    h(
      "dl",
      {},
      h("dt", {}, "laughter"),
      h("dd", {}, s.laughterDetected ? `yes, ${d?.eventCount ?? 0} events (${typeName(s.dominantLaughterType)})` : "none found"),
      h("dt", {}, "laughs per minute"),
      h("dd", { "data-testid": "laughs-per-minute" }, perMinute),
      h("dt", {}, "laughter time"),
      h("dd", {}, d ? `${fmt(seconds(d.totalLaughterDuration), 1)} s of ${fmt(seconds(s.media?.mediaDuration), 1)} s (${fmt((d.laughterFraction || 0) * 100, 0)}%)` : "—"),
      h("dt", {}, "confidence"),
      h("dd", {}, fmt(s.overallConfidence)),
    ),
    h("h4", {}, "Emotions"),
    emotions.length ? bars(emotions.map((e) => [emotionName(e.emotion), e.score, fmt(e.score)])) : h("p", {}, "no faces analysed"),
    h("h4", {}, "Laughter types"),
    s.typeCounts.length
      ? bars(s.typeCounts.map((t) => [typeName(t.laughterType), t.eventCount / totalType, `${t.eventCount} (${fmt(seconds(t.totalDuration), 1)} s)`]))
      : h("p", {}, "none"),
    h("h4", {}, "Faces"),
    s.faces.length
      ? h(
          "table",
          { class: "faces", "data-testid": "faces" },
          h("thead", {}, h("tr", {}, ...["face", "seen", "frames", "emotion", "events", "laughter"].map((c) => h("th", {}, c)))),
          h(
            "tbody",
            {},
            ...s.faces.map((f) =>
              h(
                "tr",
                {},
                h("td", {}, `face ${f.faceId}`),
                h("td", {}, `${fmt(seconds(f.firstSeenOffset), 1)} – ${fmt(seconds(f.lastSeenOffset), 1)} s`),
                h("td", {}, f.framesSeen),
                h("td", {}, emotionName(f.dominantEmotion)),
                h("td", {}, f.eventCount),
                h("td", {}, typeName(f.dominantLaughterType)),
              ),
            ),
          ),
        )
      : h("p", {}, "no faces found"),
    s.notices.length ? h("ul", { class: "notices" }, ...s.notices.map((n) => h("li", {}, `${words(NoticeCode[n.code] ?? "")}: ${n.message}`))) : null,
  );
}
