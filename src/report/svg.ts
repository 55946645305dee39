/**
 * Inline SVG charts for the HTML report: line charts, scatter plots and heatmaps as strings, no
 * script and no external resource, so a report reads offline and prints. Every data mark carries
 * a class (`pt`, `cell`, ...) and a <title> (the hover text), so a test can count marks and a
 * reader can see exact values. Pure functions of their data.
 */

/** Escapes text for HTML/SVG content and attribute values. */
export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** A number short enough for an axis label or a cell (3 significant digits, K/M for counts). */
export function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(digits)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(digits)}K`;
  if (a === 0) return "0";
  return String(+v.toPrecision(digits));
}

/** About `count` round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

/** A tick label: as many decimals as the tick step needs, so neighbouring ticks never read the same. */
function tickLabel(v: number, all: number[]): string {
  if (all.length < 2 || Math.max(...all.map(Math.abs)) >= 1e4) return fmt(v);
  const step = Math.abs(all[1]! - all[0]!);
  return v.toFixed(Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
}

/** [lo, hi] of the values with a little padding (a single value gets a unit-sized window). */
function extent(values: number[], pad = 0.05): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi === lo) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    return [lo - d, hi + d];
  }
  const d = (hi - lo) * pad;
  lo -= d;
  hi += d;
  return [lo, hi];
}

const W = 560;
const H = 300;
const M = { left: 62, right: 16, top: 14, bottom: 44 };

interface Frame {
  x: (v: number) => number;
  y: (v: number) => number;
  svg: string[];
}

/** Axes, grid and labels for the given ranges; returns the scales and the SVG so far. */
function frame(xr: [number, number], yr: [number, number], xLabel: string, yLabel: string): Frame {
  const x = (v: number) => M.left + ((v - xr[0]) / (xr[1] - xr[0])) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - ((v - yr[0]) / (yr[1] - yr[0])) * (H - M.top - M.bottom);
  const svg: string[] = [];
  const yt = ticks(yr[0], yr[1]);
  for (const t of yt) {
    svg.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}"/>`);
    svg.push(`<text class="tick" x="${M.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${esc(tickLabel(t, yt))}</text>`);
  }
  const xt = ticks(xr[0], xr[1], 6);
  for (const t of xt) {
    svg.push(`<line class="grid" y1="${M.top}" y2="${H - M.bottom}" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}"/>`);
    svg.push(`<text class="tick" y="${H - M.bottom + 16}" x="${x(t).toFixed(1)}" text-anchor="middle">${esc(tickLabel(t, xt))}</text>`);
  }
  svg.push(`<rect class="plot" x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}"/>`);
  svg.push(`<text class="label" x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`);
  svg.push(`<text class="label" transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  return { x, y, svg };
}

function wrap(body: string[], label: string, width = W, height = H): string {
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(label)}">${body.join("")}</svg>`;
}

export interface Series {
  name: string;
  /** A CSS class picking the series' colour (s0..s5). */
  tone: number;
  points: { x: number; y: number; title?: string }[];
}

/** A line chart: one polyline and one `circle.pt` per point of each series, with a legend. */
export function lineChart(series: Series[], opts: { title: string; xLabel: string; yLabel: string; yRange?: [number, number] }): string {
  const all = series.flatMap((s) => s.points);
  const xr = extent(all.map((p) => p.x), 0.03);
  const yr = opts.yRange ?? extent(all.map((p) => p.y));
  const f = frame(xr, yr, opts.xLabel, opts.yLabel);
  series.forEach((s, i) => {
    const pts = s.points.map((p) => `${f.x(p.x).toFixed(1)},${f.y(p.y).toFixed(1)}`).join(" ");
    if (s.points.length > 1) f.svg.push(`<polyline class="line s${s.tone}" points="${pts}"/>`);
    for (const p of s.points) f.svg.push(`<circle class="pt s${s.tone}" cx="${f.x(p.x).toFixed(1)}" cy="${f.y(p.y).toFixed(1)}" r="3"><title>${esc(p.title ?? `${s.name}: ${opts.xLabel} ${fmt(p.x)}, ${opts.yLabel} ${fmt(p.y, 5)}`)}</title></circle>`);
    f.svg.push(`<g class="legend"><rect class="s${s.tone}" x="${M.left + 10}" y="${M.top + 8 + 16 * i}" width="10" height="10"/><text x="${M.left + 26}" y="${M.top + 17 + 16 * i}">${esc(s.name)}</text></g>`);
  });
  return wrap(f.svg, opts.title);
}

export interface ScatterPoint {
  x: number;
  y: number;
  title: string;
  /** Extra class on the mark (e.g. "chosen"). */
  kind?: string;
}

export interface ScatterOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** A polyline through these points (e.g. the Pareto front), drawn under the marks. */
  line?: { x: number; y: number }[];
  lineName?: string;
  /** A vertical line at this x (e.g. the MACs budget). */
  vline?: { x: number; name: string };
  /** Highlighted points drawn on top (class `mark`, plus their kind). */
  highlights?: ScatterPoint[];
}

/** A scatter plot: one `circle.pt` per point; highlights as `path.mark`; optional front line and budget line. */
export function scatter(points: ScatterPoint[], opts: ScatterOptions): string {
  const hl = opts.highlights ?? [];
  const xs = [...points, ...hl, ...(opts.line ?? [])].map((p) => p.x).concat(opts.vline ? [opts.vline.x] : []);
  const ys = [...points, ...hl, ...(opts.line ?? [])].map((p) => p.y);
  const f = frame(extent(xs), extent(ys), opts.xLabel, opts.yLabel);
  if (opts.line && opts.line.length > 0) {
    const pts = opts.line.map((p) => `${f.x(p.x).toFixed(1)},${f.y(p.y).toFixed(1)}`).join(" ");
    f.svg.push(`<polyline class="front" points="${pts}"><title>${esc(opts.lineName ?? "")}</title></polyline>`);
  }
  if (opts.vline) {
    const x = f.x(opts.vline.x).toFixed(1);
    f.svg.push(`<line class="budget" x1="${x}" x2="${x}" y1="${M.top}" y2="${H - M.bottom}"><title>${esc(opts.vline.name)}</title></line>`);
    f.svg.push(`<text class="budget-label" x="${(+x - 4).toFixed(1)}" y="${H - M.bottom - 6}" text-anchor="end">${esc(opts.vline.name)}</text>`);
  }
  for (const p of points) f.svg.push(`<circle class="pt${p.kind ? ` ${p.kind}` : ""}" cx="${f.x(p.x).toFixed(1)}" cy="${f.y(p.y).toFixed(1)}" r="2.6"><title>${esc(p.title)}</title></circle>`);
  for (const p of hl) {
    const cx = f.x(p.x);
    const cy = f.y(p.y);
    // A star-like diamond, big enough to find among the points.
    f.svg.push(`<path class="mark ${p.kind ?? ""}" d="M${cx.toFixed(1)} ${(cy - 7).toFixed(1)}L${(cx + 7).toFixed(1)} ${cy.toFixed(1)}L${cx.toFixed(1)} ${(cy + 7).toFixed(1)}L${(cx - 7).toFixed(1)} ${cy.toFixed(1)}Z"><title>${esc(p.title)}</title></path>`);
  }
  return wrap(f.svg, opts.title);
}

export interface HeatmapOptions {
  title: string;
  rows: string[];
  cols: string[];
  /** values[r][c]; null: no cell (e.g. a layer without that candidate); NaN: a grey cell without a value. */
  values: (number | null)[][];
  /** Cells to outline: [row, col]. */
  marked?: [number, number][];
  /** Class of the outlined cells (default `chosen`). */
  markClass?: string;
  /** Hover text of a cell. */
  cellTitle: (r: number, c: number, v: number) => string;
  /** Text in a cell (default: the value, 3 significant digits). */
  cellText?: (r: number, c: number, v: number) => string;
  /** Colour scale range (default: the values' min and max). */
  range?: [number, number];
}

/** Sequential colour from pale to deep blue, t in [0, 1]. */
function shade(t: number): string {
  const u = Math.min(1, Math.max(0, t));
  const from = [239, 243, 255];
  const to = [8, 69, 148];
  return `rgb(${from.map((a, i) => Math.round(a + (to[i]! - a) * u)).join(",")})`;
}

/** A heatmap: one `rect.cell` per non-null value, marked cells outlined, values written in. */
export function heatmap(o: HeatmapOptions): string {
  const cw = Math.max(44, Math.min(84, Math.floor(640 / Math.max(1, o.cols.length))));
  const ch = 24;
  const left = Math.min(180, 8 + 7 * Math.max(4, ...o.rows.map((r) => r.length)));
  const top = 12 + 6.2 * Math.min(22, Math.max(4, ...o.cols.map((c) => c.length)));
  const width = left + cw * o.cols.length + 10;
  const height = top + ch * o.rows.length + 10;
  const flat = o.values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const [lo, hi] = o.range ?? [Math.min(...flat), Math.max(...flat)];
  const svg: string[] = [];
  o.cols.forEach((c, j) => {
    const x = left + cw * j + cw / 2;
    svg.push(`<text class="col" transform="translate(${x.toFixed(1)} ${top - 6}) rotate(-40)">${esc(c)}</text>`);
  });
  const marked = new Set((o.marked ?? []).map(([r, c]) => `${r},${c}`));
  o.rows.forEach((r, i) => {
    svg.push(`<text class="row" x="${left - 6}" y="${top + ch * i + ch / 2 + 4}" text-anchor="end">${esc(r)}</text>`);
    o.values[i]!.forEach((v, j) => {
      if (v === null) return;
      const valued = Number.isFinite(v);
      const t = !valued ? 0 : hi > lo ? (v - lo) / (hi - lo) : 0.5;
      const x = left + cw * j;
      const y = top + ch * i;
      const isMarked = marked.has(`${i},${j}`);
      svg.push(`<rect class="cell${isMarked ? ` ${o.markClass ?? "chosen"}` : ""}" x="${x + 1}" y="${y + 1}" width="${cw - 2}" height="${ch - 2}" fill="${valued ? shade(t) : "#e5e8ec"}"><title>${esc(o.cellTitle(i, j, v))}</title></rect>`);
      const text = !valued ? "–" : o.cellText ? o.cellText(i, j, v) : v.toPrecision(4);
      svg.push(`<text class="v${t > 0.55 ? " dark" : ""}" x="${x + cw / 2}" y="${y + ch / 2 + 4}" text-anchor="middle">${esc(text)}</text>`);
    });
  });
  // Outlines last, so neighbouring cells do not paint over them.
  for (const key of marked) {
    const [i, j] = key.split(",").map(Number) as [number, number];
    if (o.values[i]?.[j] === null || o.values[i]?.[j] === undefined) continue;
    svg.push(`<rect class="outline" x="${left + cw * j + 1}" y="${top + ch * i + 1}" width="${cw - 2}" height="${ch - 2}"/>`);
  }
  return wrap(svg, o.title, width, height);
}
