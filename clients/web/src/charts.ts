// Small SVG charts for the dashboard: horizontal bars, stacked columns over time, a line over time.
const NS = "http://www.w3.org/2000/svg";
const W = 460;
const H = 150;
const MAX_BAR = 48;
const PAD = { left: 36, right: 8, top: 8, bottom: 22 };
export const PALETTE = ["#e08020", "#2a7ab0", "#3c9a5f", "#b04a7a", "#7a5ab0", "#a0a030", "#666", "#c03030"];

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

export interface Point {
  label: string; // x label (a time)
  value: number;
  title: string; // tooltip
}

function frame(testid: string, max: number, yFormat: (v: number) => string): SVGSVGElement {
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", "data-testid": testid, role: "img" });
  const y0 = H - PAD.bottom;
  root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y0, y2: y0, class: "axis" }));
  for (const f of [0.5, 1]) {
    const y = y0 - f * (y0 - PAD.top);
    root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "grid" }));
    root.append(svg("text", { x: PAD.left - 4, y: y + 4, "text-anchor": "end" }, yFormat(max * f)));
  }
  return root;
}

function xLabels(root: SVGSVGElement, labels: string[], x: (i: number) => number): void {
  const every = Math.max(1, Math.ceil(labels.length / 6));
  labels.forEach((label, i) => {
    if (i % every === 0) root.append(svg("text", { x: x(i), y: H - 6, "text-anchor": "middle" }, label));
  });
}

/** Columns, one per point (laughs per minute by day). */
export function columns(testid: string, points: Point[], yFormat: (v: number) => string): SVGSVGElement {
  const max = Math.max(...points.map((p) => p.value), 1e-9);
  const root = frame(testid, max, yFormat);
  const span = (W - PAD.left - PAD.right) / Math.max(points.length, 1);
  const x = (i: number) => PAD.left + span * (i + 0.5);
  const width = Math.min(span * 0.7, MAX_BAR);
  points.forEach((p, i) => {
    const height = (p.value / max) * (H - PAD.top - PAD.bottom);
    const rect = svg("rect", { x: x(i) - width / 2, width, y: H - PAD.bottom - height, height, fill: PALETTE[0], "data-value": p.value });
    rect.append(svg("title", {}, p.title));
    root.append(rect);
  });
  xLabels(root, points.map((p) => p.label), x);
  return root;
}

/** Stacked columns: one per time bucket, one colour per series (laughter types over time). */
export function stacked(testid: string, labels: string[], series: { name: string; values: number[] }[]): SVGSVGElement {
  const totals = labels.map((_, i) => series.reduce((n, s) => n + (s.values[i] ?? 0), 0));
  const max = Math.max(...totals, 1);
  const root = frame(testid, max, (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)));
  const span = (W - PAD.left - PAD.right) / Math.max(labels.length, 1);
  const x = (i: number) => PAD.left + span * (i + 0.5);
  const width = Math.min(span * 0.7, MAX_BAR);
  labels.forEach((label, i) => {
    let y = H - PAD.bottom;
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      if (!v) return;
      const height = (v / max) * (H - PAD.top - PAD.bottom);
      y -= height;
      const rect = svg("rect", { x: x(i) - width / 2, width, y, height, fill: PALETTE[k % PALETTE.length] });
      rect.append(svg("title", {}, `${label}: ${v} ${s.name}`));
      root.append(rect);
    });
  });
  xLabels(root, labels, x);
  return root;
}

/** A line with dots (confidence trend), on a fixed [0, max] scale. */
export function line(testid: string, points: Point[], max: number, yFormat: (v: number) => string): SVGSVGElement {
  const root = frame(testid, max, yFormat);
  const span = (W - PAD.left - PAD.right) / Math.max(points.length, 1);
  const x = (i: number) => PAD.left + span * (i + 0.5);
  const y = (v: number) => H - PAD.bottom - (Math.min(v, max) / max) * (H - PAD.top - PAD.bottom);
  if (points.length > 1) {
    root.append(svg("polyline", { points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(" "), fill: "none", stroke: PALETTE[1], "stroke-width": 2 }));
  }
  points.forEach((p, i) => {
    const dot = svg("circle", { cx: x(i), cy: y(p.value), r: 3.5, fill: PALETTE[1], "data-value": p.value });
    dot.append(svg("title", {}, p.title));
    root.append(dot);
  });
  xLabels(root, points.map((p) => p.label), x);
  return root;
}
