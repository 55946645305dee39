/**
 * The report as one self-contained HTML file: inline CSS and SVG, no script, no font or image
 * from anywhere (its content security policy forbids fetching anything), readable offline and
 * printable. Each section is shown when its data is there; otherwise it says what is missing
 * and which input would supply it.
 */
import { basename } from "node:path";
import { bootstrap, kendallTau } from "../score/rank-stats.js";
import { costsKnown, evaluate } from "../search/problem.js";
import { formatArch } from "../structure/arch.js";
import { budget, checkConsistency, chosenArch, currentScores, paretoFront, problemFor, rankStability, sampleArchs, topKPerEpoch } from "./analysis.js";
import { commandRows } from "./commands.js";
import type { ReportInputs, TrainingRun } from "./inputs.js";
import { esc, fmt, heatmap, lineChart, scatter, type ScatterPoint, type Series } from "./svg.js";

/** Architectures drawn for the Pareto scatter and rank stability when no truth table is given. */
export const SAMPLE_ARCHS = 300;
/** How many of each epoch's best architectures the rank-stability table lists. */
export const TOP_K = 5;

export interface Section {
  id: string;
  title: string;
  /** False when the section only says what is missing. */
  shown: boolean;
}

export interface RenderedReport {
  html: string;
  sections: Section[];
  problems: ReportInputs["problems"];
}

const CSS = `
:root{--fg:#1b1f24;--muted:#5b6470;--line:#d7dce2;--accent:#0b5cad;--warn:#9a5b00}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:22px;margin:4px 0 2px}h2{font-size:17px;margin:0 0 8px}h3{font-size:14px;margin:10px 0 4px;color:var(--muted)}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin:14px 0;break-inside:avoid}
.sub{color:var(--muted)}.grid2{display:flex;flex-wrap:wrap;gap:12px}.grid2>figure{flex:1 1 520px}
figure{margin:6px 0}figcaption{color:var(--muted);font-size:12.5px;margin-top:2px}
.missing{color:var(--warn)}.problems li.error{color:#a4161a}
table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
td.in-final{background:#e3effb}
.kpi{display:flex;gap:28px;flex-wrap:wrap;margin:6px 0 10px}.kpi div{min-width:120px}.kpi b{display:block;font-size:22px}
svg.chart{max-width:100%;height:auto;font-size:11px}
svg .grid{stroke:#eceff3}svg .plot{fill:none;stroke:#9aa3ad}svg .tick{fill:var(--muted)}svg .label{fill:var(--fg);font-size:12px}
svg .line{fill:none;stroke-width:1.8}svg .s0{stroke:#0b5cad;fill:#0b5cad}svg .s1{stroke:#c2410c;fill:#c2410c}svg .s2{stroke:#15803d;fill:#15803d}svg .s3{stroke:#7e22ce;fill:#7e22ce}
svg polyline.line.s0,svg polyline.line.s1,svg polyline.line.s2,svg polyline.line.s3{fill:none}
svg circle.pt{fill:#0b5cad;fill-opacity:.55;stroke:none}svg circle.pt.s1{fill:#c2410c}svg circle.pt.s2{fill:#15803d}
svg circle.pt.front{fill:#c2410c;fill-opacity:.9}
svg .front{fill:none;stroke:#c2410c;stroke-width:1.5}svg .budget{stroke:#a4161a;stroke-dasharray:5 4}svg .budget-label{fill:#a4161a}
svg path.mark{fill:#f5b700;stroke:#1b1f24;stroke-width:1.2}
svg text.v{fill:#1b1f24;font-size:10.5px}svg text.v.dark{fill:#fff}svg text.col,svg text.row{fill:var(--fg)}
svg rect.outline{fill:none;stroke:#f5b700;stroke-width:3}
svg .legend text{fill:var(--fg)}
@media print{body{background:#fff}section{border:none;padding:6px 0}main{padding:0}}
`;

function section(id: string, title: string, body: string, shown: boolean, sections: Section[]): string {
  sections.push({ id, title, shown });
  return `<section id="${id}" data-shown="${shown}"><h2>${esc(title)}</h2>${body}</section>`;
}

function missing(text: string): string {
  return `<p class="missing">${esc(text)}</p>`;
}

function figure(name: string, svg: string, caption: string, marks: number): string {
  // data-marks: the number of data marks the chart must hold, so a test can count them.
  return `<figure data-chart="${name}" data-marks="${marks}">${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
}

function trainingFigures(run: TrainingRun, id: string, tone: number): string {
  const h = run.history;
  const byStep = h.every((e) => Number.isFinite(e.step));
  const x = (e: (typeof h)[number]) => (byStep ? e.step : e.epoch);
  const xLabel = byStep ? "step" : "epoch";
  const point = (e: (typeof h)[number], y: number, what: string) => ({ x: x(e), y, title: `epoch ${e.epoch}${e.complete ? "" : " (partial)"}, step ${e.step}: ${what}` });
  const loss: Series[] = [{ name: "training loss (epoch mean)", tone, points: h.map((e) => point(e, e.loss, `loss ${e.loss.toFixed(4)}`)) }];
  const acc: Series[] = [{ name: "training accuracy (epoch mean)", tone, points: h.map((e) => point(e, e.accuracy * 100, `accuracy ${(e.accuracy * 100).toFixed(2)}%`)) }];
  const r = run.record;
  const final = r.final as { loss?: number; accuracy?: number; window?: number } | undefined;
  const caption = `${basename(run.file)}: ${h.length} epoch record(s), ${String(r.steps ?? "?")} steps of batch ${String(r.batch ?? "?")}, lr ${String(r.lr ?? "?")} (${String(r.lrSchedule ?? "?")})` +
    (final && Number.isFinite(final.loss) ? `; final loss ${final.loss!.toFixed(4)}, accuracy ${((final.accuracy ?? NaN) * 100).toFixed(2)}% (mean of the last ${final.window ?? "?"} steps)` : "");
  return `<h3>${esc(run.title)}</h3><div class="grid2">` +
    figure(`${id}-loss`, lineChart(loss, { title: `${run.title}: loss`, xLabel, yLabel: "loss" }), caption, h.length) +
    figure(`${id}-acc`, lineChart(acc, { title: `${run.title}: accuracy`, xLabel, yLabel: "accuracy (%)" }), "Accuracy on the training batches, mean over each epoch.", h.length) +
    `</div>`;
}

/** Renders the report. `inputs` is checked for consistency first (mismatched inputs are dropped, with a problem each). */
export function renderReport(inputs: ReportInputs): RenderedReport {
  checkConsistency(inputs);
  const sections: Section[] = [];
  const parts: string[] = [];
  const s = inputs.supernet;
  const chosen = chosenArch(inputs);
  const limits = budget(inputs);
  const scores = s ? currentScores(s) : undefined;
  const problem = s && scores ? problemFor(s, scores) : undefined;

  // Training curves: the supernet's and every retraining of the subnet.
  {
    const runs: string[] = [];
    if (s?.training && s.training.history.length > 0) runs.push(trainingFigures(s.training, "train-supernet", 0));
    inputs.subnet?.retraining.forEach((r, i) => {
      if (r.history.length > 0) runs.push(trainingFigures(r, `train-subnet-${i}`, 1));
    });
    const notes: string[] = [];
    if (!s) notes.push("No supernet given: give the trained supernet (supernet.trained.onnx) for its training curves.");
    else if (!s.training?.history.length) notes.push(`${basename(s.file)} holds no training history (train it with bnnas train).`);
    if (!inputs.subnet) notes.push("No subnet given: give the final model (subnet.onnx) for its training curves.");
    else if (inputs.subnet.retraining.length === 0) notes.push(`${basename(inputs.subnet.file)} records no training of its own (it was not retrained with bnnas train).`);
    parts.push(section("training", "Training", runs.join("") + notes.map(missing).join(""), runs.length > 0, sections));
  }

  // The indicator, layer by candidate, with the chosen architecture outlined.
  if (s && scores) {
    const layers = s.loaded.structure.layers;
    const positions = [...new Set(layers.flatMap((l) => l.candidates.map((c) => c.position)))].sort((a, b) => a - b);
    const colName = (p: number) => {
      const names = new Set(layers.flatMap((l) => l.candidates.filter((c) => c.position === p).map((c) => c.name)));
      return names.size === 1 ? `${p}: ${[...names][0]}` : `${p}`;
    };
    const values = layers.map((l, li) => positions.map((p) => {
      const k = l.candidates.findIndex((c) => c.position === p);
      // A candidate without an indicator BatchNorm (skip) has no score: a grey cell, outside the colour scale.
      return k < 0 ? null : scores[li]![k] ?? NaN;
    }));
    const marked: [number, number][] = chosen ? chosen.arch.map((p, l) => [l, positions.indexOf(p)]) : [];
    const cells = layers.reduce((n, l) => n + l.candidates.length, 0);
    const svg = heatmap({
      title: "BN indicator per layer and candidate",
      rows: layers.map((l) => l.label),
      cols: positions.map(colName),
      values,
      marked,
      cellTitle: (r, c, v) => {
        const cand = layers[r]!.candidates.find((x) => x.position === positions[c]);
        return `${layers[r]!.label}, ${cand?.name ?? positions[c]} (position ${positions[c]}): ${Number.isFinite(v) ? `indicator ${v.toPrecision(6)}` : "no indicator BatchNorm"}${cand?.macs !== undefined ? `, ${fmt(cand.macs)} MACs` : ""}`;
      },
    });
    const caption = `Mean |gamma| of each candidate's indicator BatchNorm in ${basename(s.file)} (${cells} candidates).` + (chosen ? ` Outlined: the chosen architecture ${formatArch(chosen.arch)} (from ${chosen.from}).` : " No architecture chosen: give a search JSON or the subnet to mark it.");
    parts.push(section("indicator", "Indicator heatmap", figure("heatmap", svg, caption, cells), true, sections));
  } else parts.push(section("indicator", "Indicator heatmap", missing("No supernet given: the indicator table needs the trained supernet."), false, sections));

  // Rank stability over epochs (the paper's Fig. 5) and each epoch's top-k.
  {
    let body = "";
    let shown = false;
    if (s && problem) {
      const truthArchs = inputs.truth ? uniqueArchs(inputs.truth.rows.map((r) => r.arch)) : undefined;
      const archs = truthArchs ?? sampleArchs(problem, SAMPLE_ARCHS, 0);
      const stab = rankStability(s, archs);
      if (stab.length > 0) {
        shown = true;
        const series: Series[] = [{ name: `Kendall tau vs the last epoch (${archs.length} ${truthArchs ? "truth-table" : "sampled"} architectures)`, tone: 0, points: stab.map((e) => ({ x: e.epoch, y: e.tau, title: `epoch ${e.epoch}: tau ${e.tau.toFixed(4)}` })) }];
        if (inputs.rank && inputs.rank.rank_stability.length > 0) series.push({ name: `bench rank (${basename(inputs.rank.file)})`, tone: 1, points: inputs.rank.rank_stability.map((e) => ({ x: e.epoch, y: e.tau, title: `bench rank, epoch ${e.epoch}: tau ${e.tau.toFixed(4)}` })) });
        const marks = series.reduce((n, x) => n + x.points.length, 0);
        body += figure("rank-stability", lineChart(series, { title: "Rank stability", xLabel: "epoch", yLabel: "Kendall tau vs last epoch", yRange: [Math.min(-0.05, ...stab.map((e) => e.tau)) - 0.05, 1.05] }),
          `Each epoch's indicator ranking of ${archs.length} architectures against the last epoch's${truthArchs ? " (the truth table's architectures, as bench rank computes it)" : ` (a seeded sample of the space${archs.length < SAMPLE_ARCHS ? ", here all of it" : ""})`}. BN-NAS's claim: the ranking settles early.`, marks);
        const top = topKPerEpoch(s, limits, TOP_K);
        const final = new Set(top.at(-1)?.best.map(formatArch) ?? []);
        body += `<h3>Top ${TOP_K} architectures of each epoch${limits.maxMacs !== undefined ? ` (MACs <= ${fmt(limits.maxMacs)})` : ""}; shaded: in the last epoch's top ${TOP_K}</h3>`;
        body += `<table class="topk" data-chart="topk" data-marks="${top.reduce((n, t) => n + t.best.length, 0)}"><tr><th>epoch</th>${Array.from({ length: TOP_K }, (_, i) => `<th>#${i + 1}</th>`).join("")}</tr>` +
          top.map((t) => `<tr><td class="num">${t.epoch}</td>${t.best.map((a) => `<td class="mono arch${final.has(formatArch(a)) ? " in-final" : ""}">${esc(formatArch(a))}</td>`).join("")}</tr>`).join("") + `</table>`;
      } else body += missing(`${basename(s.file)} records no per-epoch indicator (train it with bnnas train): rank stability needs the training record's history.`);
    } else if (inputs.rank && inputs.rank.rank_stability.length > 0) {
      shown = true;
      const pts = inputs.rank.rank_stability;
      body += figure("rank-stability", lineChart([{ name: `bench rank (${basename(inputs.rank.file)})`, tone: 1, points: pts.map((e) => ({ x: e.epoch, y: e.tau })) }], { title: "Rank stability", xLabel: "epoch", yLabel: "Kendall tau vs last epoch" }), "From bench rank --json.", pts.length);
    } else body += missing("Rank stability needs the trained supernet (its per-epoch indicator) or a bench rank --json output.");
    parts.push(section("rank-stability", "Rank stability over epochs", body, shown, sections));
  }

  // Cost against score: the sampled space (or the truth table), the front, the chosen one, the budget.
  {
    let body = "";
    let shown = false;
    const vline = limits.maxMacs !== undefined ? { x: limits.maxMacs, name: `budget ${fmt(limits.maxMacs)} MACs` } : undefined;
    if (problem && !costsKnown(problem)) {
      body += missing(`${basename(s!.file)}'s MACs are unknown (${s!.loaded.countProblem ?? "no cost information"}): no cost trade-off.`);
    } else if (inputs.truth && problem) {
      shown = true;
      const byArch = meanAcc(inputs.truth.rows);
      const pts: ScatterPoint[] = byArch.map((r) => ({ x: evaluate(problem, r.arch).macs, y: r.acc * 100, title: `${formatArch(r.arch)}: ${(r.acc * 100).toFixed(2)}% (${r.seeds} seed(s)), ${fmt(evaluate(problem, r.arch).macs)} MACs` }));
      const front = frontOf(pts);
      const hl = chosenTruth(chosen?.arch, byArch, problem);
      body += figure("pareto", scatter(pts, { title: "Accuracy against MACs", xLabel: "MACs", yLabel: "test accuracy (%)", line: staircase(front), lineName: "Pareto front (fewest MACs for the accuracy)", vline, highlights: hl }),
        `Measured accuracy (${basename(inputs.truth.file)}, seeds averaged) of ${pts.length} architectures against MACs; line: their Pareto front${hl.length ? "; diamond: the chosen architecture" : ""}${vline ? "; dashed: the search's budget" : ""}.`, pts.length);
    } else if (problem && s) {
      shown = true;
      const archs = sampleArchs(problem, SAMPLE_ARCHS, 0);
      const pts: ScatterPoint[] = archs.map((a) => {
        const e = evaluate(problem, a);
        return { x: e.macs, y: e.score, title: `${formatArch(a)}: indicator ${e.score.toFixed(4)}, ${fmt(e.macs)} MACs` };
      });
      const { front, thinned } = paretoFront(problem);
      const hl: ScatterPoint[] = chosen ? [(() => {
        const e = evaluate(problem, chosen.arch);
        return { x: e.macs, y: e.score, title: `chosen ${formatArch(chosen.arch)}: indicator ${e.score.toFixed(4)}, ${fmt(e.macs)} MACs`, kind: "chosen" };
      })()] : [];
      body += figure("pareto", scatter(pts, { title: "Indicator against MACs", xLabel: "MACs", yLabel: "indicator (sum over layers)", line: staircase(front.map((f) => ({ x: f.macs, y: f.score }))), lineName: `exact Pareto front of the whole space (${front.length} architectures)`, vline, highlights: hl }),
        `${pts.length} architectures ${pts.length < SAMPLE_ARCHS ? "(the whole space)" : "sampled with seed 0"}; line: the exact Pareto front over every allowed architecture (${front.length} points${thinned ? ", thinned for drawing" : ""})${hl.length ? "; diamond: the chosen architecture" : ""}${vline ? "; dashed: the search's budget" : ""}. Give a bench truth table to plot measured accuracy instead.`, pts.length);
    } else body += missing("The trade-off needs the supernet (its costs and indicator).");
    parts.push(section("pareto", "Cost and score", body, shown, sections));
  }

  // Indicator against true accuracy.
  {
    let body = "";
    let shown = false;
    if (inputs.truth && problem) {
      shown = true;
      const byArch = meanAcc(inputs.truth.rows);
      const x = byArch.map((r) => evaluate(problem, r.arch).score);
      const y = byArch.map((r) => r.acc);
      const tau = inputs.rank?.kendall_tau ?? bootstrap(x, y, kendallTau, 1000, 0);
      const from = inputs.rank ? `bench rank (${basename(inputs.rank.file)})` : "computed here: 1000 seeded bootstrap resamples, as bench rank does";
      const pts: ScatterPoint[] = byArch.map((r, i) => ({ x: x[i]!, y: y[i]! * 100, title: `${formatArch(r.arch)}: indicator ${x[i]!.toFixed(4)}, accuracy ${(y[i]! * 100).toFixed(2)}%` }));
      body += `<p>Kendall tau <b data-value="tau">${tau.value.toFixed(3)}</b>, 95% interval [${tau.ci95[0].toFixed(3)}, ${tau.ci95[1].toFixed(3)}] over ${pts.length} architectures (${esc(from)}).` +
        (inputs.rank?.seed_tau ? ` The truth's own seed-to-seed tau (the ceiling): ${inputs.rank.seed_tau.value.toFixed(3)}.` : "") +
        (inputs.rank?.top10_precision !== undefined ? ` Top-10% precision ${(inputs.rank.top10_precision * 100).toFixed(0)}%.` : "") + `</p>`;
      body += figure("truth", scatter(pts, { title: "Indicator against accuracy", xLabel: "indicator (sum over layers)", yLabel: "test accuracy (%)" }), `Each point an architecture of ${basename(inputs.truth.file)} (seeds averaged).`, pts.length);
    } else if (inputs.rank) {
      shown = true;
      const t = inputs.rank.kendall_tau;
      body += `<p>Kendall tau <b data-value="tau">${t.value.toFixed(3)}</b>, 95% interval [${t.ci95[0].toFixed(3)}, ${t.ci95[1].toFixed(3)}] over ${inputs.rank.n} architectures (${esc(basename(inputs.rank.file))}).</p>` + missing("Give the truth table (bench truth JSONL) and the supernet to plot each architecture.");
    } else body += missing("No truth table given: bnnas bench truth trains architectures from scratch; give its JSONL (and bench rank --json) to see how well the indicator ranks them.");
    parts.push(section("truth", "Indicator against true accuracy", body, shown, sections));
  }

  // The final model.
  {
    let body = "";
    const ev = inputs.eval;
    const sub = inputs.subnet;
    if (sub?.manifest) body += `<p>Subnet <code>${esc(basename(sub.file))}</code>: architecture <code>${esc(formatArch(sub.manifest.arch))}</code> (${esc(sub.manifest.candidates.join(", "))}), ${sub.manifest.macs !== undefined ? `${fmt(sub.manifest.macs)} MACs, ` : ""}${fmt(sub.manifest.params)} parameters, BatchNorm ${esc(sub.manifest.batchNorm)}.</p>`;
    if (ev) {
      body += `<div class="kpi"><div><b data-value="accuracy">${(ev.accuracy * 100).toFixed(2)}%</b>top-1 test accuracy${ev.images !== undefined ? ` (${ev.correct ?? "?"}/${ev.images})` : ""}</div>` +
        (ev.images_per_s !== undefined ? `<div><b>${fmt(ev.images_per_s)}</b>images/s (batch ${ev.batch ?? "?"}${ev.device ? `, ${esc(ev.device)}` : ""}${ev.threads ? `, ${ev.threads} threads` : ""})</div>` : "") + `</div>`;
      if (ev.confusion) {
        const n = ev.confusion.length;
        const labels = ev.classes && ev.classes.length === n ? ev.classes : Array.from({ length: n }, (_, i) => String(i));
        const rowSums = ev.confusion.map((r) => r.reduce((a, b) => a + b, 0));
        const svg = heatmap({
          title: "Confusion matrix",
          rows: labels.map((l) => `true ${l}`),
          cols: labels,
          values: ev.confusion.map((r, i) => r.map((v) => (rowSums[i]! > 0 ? v / rowSums[i]! : 0))),
          marked: labels.map((_, i) => [i, i] as [number, number]),
          markClass: "diagonal",
          range: [0, 1],
          cellText: (r, c) => String(ev.confusion![r]![c]),
          cellTitle: (r, c, v) => `true ${labels[r]}, predicted ${labels[c]}: ${ev.confusion![r]![c]} images (${(v * 100).toFixed(1)}% of the row)`,
        });
        body += figure("confusion", svg, "Rows: true class; columns: predicted class; counts, shaded by share of the row; the diagonal is outlined.", n * n);
        if (ev.per_class) body += `<table class="per-class"><tr><th>class</th><th>accuracy</th><th>images</th></tr>${ev.per_class.map((p) => `<tr><td>${esc(p.label)}</td><td class="num">${(p.acc * 100).toFixed(1)}%</td><td class="num">${p.n}</td></tr>`).join("")}</table>`;
      } else body += missing(`${basename(ev.file)} holds no confusion matrix (it comes from a bnnas eval that does not write one): no confusion matrix shown.`);
    } else body += missing("No eval output given: give `bnnas eval subnet.onnx --json` output for the final accuracy, images/s and the confusion matrix.");
    parts.push(section("final", "Final model", body, ev !== undefined, sections));
  }

  // Which command made which file.
  {
    const rows = commandRows(inputs);
    const body = rows.length > 0
      ? `<table class="commands"><tr><th>file / stage</th><th>command</th><th></th></tr>${rows.map((r) => `<tr><td class="mono">${esc(r.file)}</td><td class="mono">${esc(r.command)}</td><td class="sub">${esc(r.how)}</td></tr>`).join("")}</table>`
      : missing("No file says how it was made.");
    parts.push(section("commands", "Commands", body, rows.length > 0, sections));
  }

  const given = [inputs.supernet, inputs.search, inputs.subnet, inputs.truth, inputs.rank, inputs.eval, inputs.demo].filter((x) => x !== undefined).map((x) => basename(x!.file));
  const problemsHtml = inputs.problems.length
    ? `<section id="problems"><h2>What is missing</h2><ul class="problems">${inputs.problems.map((p) => `<li class="${p.level}">${esc(p.message)}</li>`).join("")}</ul></section>`
    : "";
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bnnas report${s?.loaded.manifest ? `: ${esc(s.loaded.manifest.space.name)}` : ""}</title>
<style>${CSS}</style></head>
<body><main>
<h1>bnnas report${s?.loaded.manifest ? `: ${esc(s.loaded.manifest.space.name)}` : ""}</h1>
<p class="sub">From ${given.map((g) => `<code>${esc(g)}</code>`).join(", ") || "no usable file"}.${chosen ? ` Chosen architecture <code>${esc(formatArch(chosen.arch))}</code>.` : ""}</p>
${problemsHtml}
${parts.join("\n")}
</main></body></html>
`;
  return { html, sections, problems: inputs.problems };
}

/** A front as the staircase it is: no architecture lies between two front points. */
function staircase(pts: { x: number; y: number }[]): { x: number; y: number }[] {
  return pts.flatMap((p, i) => (i === 0 ? [p] : [{ x: p.x, y: pts[i - 1]!.y }, p]));
}

function uniqueArchs(archs: number[][]): number[][] {
  const seen = new Map<string, number[]>();
  for (const a of archs) if (!seen.has(formatArch(a))) seen.set(formatArch(a), a);
  return [...seen.values()];
}

/** Accuracy per architecture, averaged over its seeds, in first-seen order. */
function meanAcc(rows: { arch: number[]; acc: number }[]): { arch: number[]; acc: number; seeds: number }[] {
  const by = new Map<string, { arch: number[]; sum: number; seeds: number }>();
  for (const r of rows) {
    const k = formatArch(r.arch);
    const e = by.get(k) ?? { arch: r.arch, sum: 0, seeds: 0 };
    e.sum += r.acc;
    e.seeds += 1;
    by.set(k, e);
  }
  return [...by.values()].map((e) => ({ arch: e.arch, acc: e.sum / e.seeds, seeds: e.seeds }));
}

/** The points no other point beats on both axes (fewer x, higher y), in x order. */
function frontOf(pts: { x: number; y: number }[]): { x: number; y: number }[] {
  const sorted = [...pts].sort((a, b) => a.x - b.x || b.y - a.y);
  const out: { x: number; y: number }[] = [];
  for (const p of sorted) if (out.length === 0 || p.y > out.at(-1)!.y) out.push(p);
  return out;
}

function chosenTruth(arch: number[] | undefined, byArch: { arch: number[]; acc: number }[], problem: ReturnType<typeof problemFor>): ScatterPoint[] {
  if (!arch) return [];
  const hit = byArch.find((r) => formatArch(r.arch) === formatArch(arch));
  if (!hit) return [];
  const macs = evaluate(problem, arch).macs;
  return [{ x: macs, y: hit.acc * 100, title: `chosen ${formatArch(arch)}: ${(hit.acc * 100).toFixed(2)}%, ${fmt(macs)} MACs`, kind: "chosen" }];
}
