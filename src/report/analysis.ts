/**
 * The numbers behind the report's charts, derived from its inputs: the indicator table, the
 * chosen architecture, whether the inputs belong together, the exact Pareto front of indicator
 * against MACs, rank stability over the recorded epochs and each epoch's top-k. Pure functions;
 * nothing here reads files.
 */
import { getIndicator } from "../score/registry.js";
import { kendallTau } from "../score/rank-stats.js";
import { exactTopK } from "../search/exact.js";
import { evaluate, fixedDepthChoices, problemFromStructure, type Constraints, type SearchProblem } from "../search/problem.js";
import type { SupernetStructure } from "../structure/structure.js";
import { formatArch } from "../structure/arch.js";
import { Random } from "../util/random.js";
import type { EpochPoint, ReportInputs, SupernetInput } from "./inputs.js";

/** Relative difference under which two indicator values are the same number (float32 means, printed and parsed). */
const SAME = 1e-6;
const differs = (a: number, b: number) => Math.abs(a - b) > SAME * Math.max(1, Math.abs(a), Math.abs(b));

/** The indicator of every candidate of the supernet (structure order), read from its weights now. */
export function currentScores(s: SupernetInput): (number | null)[][] {
  const { model, structure, file } = s.loaded;
  return getIndicator("bn").score({ model, structure, file });
}

/** The supernet's search problem under the given scores (the fixed depth of bnnas-mbv2 honoured, as score-onnx does). */
export function problemFor(s: SupernetInput, scores: (number | null)[][]): SearchProblem {
  const fixedDepth = s.loaded.manifest?.space.fixedDepth;
  const allowed = fixedDepth && fixedDepth.length > 0 ? fixedDepthChoices(s.loaded.structure, fixedDepth) : undefined;
  return problemFromStructure(s.loaded.structure, scores, allowed ? { allowed } : {});
}

/**
 * Drops the inputs that do not belong with the supernet and records why: a search scored on
 * another supernet (its indicator table or its architectures' scores differ), a subnet extracted
 * from another file, a truth table of another space. Called once, before anything is drawn.
 */
export function checkConsistency(inputs: ReportInputs): void {
  const s = inputs.supernet;
  if (!s) return;
  const { structure } = s.loaded;
  const scores = currentScores(s);
  const problem = problemFor(s, scores);
  const drop = (key: "search" | "subnet" | "truth" | "rank", message: string) => {
    inputs.problems.push({ file: inputs[key]!.file, level: "error", message });
    delete inputs[key];
  };
  const search = inputs.search;
  if (search) {
    const why = searchMismatch(search, structure, scores, problem);
    if (why) drop("search", `${search.file}: does not belong to ${s.file}: ${why}; its search results are left out`);
  }
  const sub = inputs.subnet;
  if (sub?.manifest) {
    const m = sub.manifest;
    if (m.arch.length !== structure.layers.length) drop("subnet", `${sub.file}: its architecture has ${m.arch.length} layers, ${s.file} has ${structure.layers.length}: it is not a subnet of this supernet; it is left out`);
    // A subnet records the sha256 of the file it was extracted from: the supernet itself, or
    // (after a later BN-only training) the trained supernet given here.
    else if (m.source.sha256 !== s.loaded.sha256) inputs.problems.push({ file: sub.file, level: "missing", message: `${sub.file}: was extracted from ${m.source.file} (sha256 ${m.source.sha256.slice(0, 12)}), not from ${s.file} (sha256 ${s.loaded.sha256.slice(0, 12)}); it is shown, but its supernet may differ` });
  }
  const truth = inputs.truth;
  if (truth) {
    const bad = truth.rows.findIndex((r) => r.arch.length !== structure.layers.length || r.arch.some((p, l) => !structure.layers[l]!.candidates.some((c) => c.position === p)));
    if (bad >= 0) drop("truth", `${truth.file}: row ${bad + 1}'s architecture ${formatArch(truth.rows[bad]!.arch)} is not in ${s.file}'s space (a truth table of another space?); it is left out`);
  }
}

function searchMismatch(search: NonNullable<ReportInputs["search"]>, structure: SupernetStructure, scores: (number | null)[][], problem: SearchProblem): string | undefined {
  if (search.layers) {
    if (search.layers.length !== structure.layers.length) return `it has ${search.layers.length} layers, the supernet ${structure.layers.length}`;
    for (const [l, layer] of search.layers.entries()) {
      const own = structure.layers[l]!;
      for (const c of layer.candidates) {
        const k = own.candidates.findIndex((x) => x.position === c.position);
        if (k < 0) return `${layer.label} has a candidate at position ${c.position}, the supernet has none`;
        const mine = scores[l]![k] ?? 0;
        if (c.score !== null && differs(c.score, mine)) return `${layer.label} candidate '${c.name}' scores ${c.score.toPrecision(6)} there and ${mine.toPrecision(6)} in the supernet (scored on another supernet, or before more training)`;
      }
    }
  }
  for (const run of search.runs) {
    for (const e of run.best) {
      if (e.arch.length !== problem.layers.length || e.arch.some((p, l) => Number.isNaN(problem.layers[l]!.score[p] ?? NaN))) return `its ${run.strategy} result ${formatArch(e.arch)} is not an architecture of this supernet`;
      const own = evaluate(problem, e.arch).score;
      if (differs(e.score, own)) return `its ${run.strategy} result ${formatArch(e.arch)} scores ${e.score.toPrecision(6)} there and ${own.toPrecision(6)} in the supernet`;
    }
  }
  return undefined;
}

/** The architecture the report marks: the search's best, else the subnet's. */
export function chosenArch(inputs: ReportInputs): { arch: number[]; from: string } | undefined {
  const best = inputs.search?.runs[0]?.best[0];
  if (best) return { arch: best.arch, from: `${inputs.search!.runs[0]!.strategy} search (${inputs.search!.file})` };
  const m = inputs.subnet?.manifest;
  if (m && inputs.supernet && m.arch.length === inputs.supernet.loaded.structure.layers.length) return { arch: m.arch, from: `the subnet ${inputs.subnet!.file}` };
  return undefined;
}

/** The MACs budget of the search, if it had one. */
export function budget(inputs: ReportInputs): Constraints {
  return inputs.search?.runs[0]?.constraints ?? {};
}

export interface FrontPoint {
  macs: number;
  score: number;
  arch: number[];
}

/** Largest front kept while merging layers; beyond it the front is thinned (and said to be). */
const FRONT_LIMIT = 4000;

/**
 * The Pareto front of (fewer MACs, higher score) over every allowed architecture. The score and
 * the MACs are sums over layers, so the front of the first l+1 layers is made from the front of
 * the first l layers times the choices of layer l+1: exact, in time linear in the front's size.
 */
export function paretoFront(p: SearchProblem): { front: FrontPoint[]; thinned: boolean } {
  let front: FrontPoint[] = [{ macs: p.fixed.macs, score: 0, arch: [] }];
  let thinned = false;
  for (const layer of p.layers) {
    const next: FrontPoint[] = [];
    for (const f of front) for (const c of layer.choices) next.push({ macs: f.macs + layer.macs[c]!, score: f.score + layer.score[c]!, arch: [...f.arch, c] });
    next.sort((a, b) => a.macs - b.macs || b.score - a.score);
    front = [];
    for (const q of next) if (front.length === 0 || q.score > front.at(-1)!.score) front.push(q);
    if (front.length > FRONT_LIMIT) {
      const step = front.length / FRONT_LIMIT;
      front = Array.from({ length: FRONT_LIMIT }, (_, i) => front[Math.floor(i * step)]!).concat(front.at(-1)!);
      thinned = true;
    }
  }
  return { front, thinned };
}

/** `n` distinct allowed architectures drawn with a fixed seed (all of them when the space is smaller). */
export function sampleArchs(p: SearchProblem, n: number, seed = 0): number[][] {
  const size = p.layers.reduce((s, l) => s * l.choices.length, 1);
  const out: number[][] = [];
  if (size <= n) {
    const walk = (prefix: number[]) => {
      if (prefix.length === p.layers.length) return void out.push(prefix);
      for (const c of p.layers[prefix.length]!.choices) walk([...prefix, c]);
    };
    walk([]);
    return out;
  }
  const rng = new Random(seed);
  const seen = new Set<string>();
  while (out.length < n) {
    const a = p.layers.map((l) => l.choices[rng.int(l.choices.length)]!);
    const key = formatArch(a);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(a);
    }
  }
  return out;
}

/** Scores of `archs` under one epoch's recorded indicator table. */
function epochArchScores(s: SupernetInput, e: EpochPoint, archs: number[][]): number[] {
  const p = problemFromStructure(s.loaded.structure, e.scores!);
  return archs.map((a) => evaluate(p, a).score);
}

/**
 * Rank stability as the BN-NAS paper's Fig. 5 draws it: Kendall tau between each epoch's
 * indicator ranking of `archs` and the last epoch's (bench rank computes the same on the truth's
 * architectures).
 */
export function rankStability(s: SupernetInput, archs: number[][]): { epoch: number; tau: number }[] {
  const epochs = (s.training?.history ?? []).filter((e) => e.scores && e.scores.length === s.loaded.structure.layers.length);
  if (epochs.length === 0 || archs.length < 2) return [];
  const last = epochArchScores(s, epochs.at(-1)!, archs);
  return epochs.map((e) => ({ epoch: e.epoch, tau: kendallTau(epochArchScores(s, e, archs), last) }));
}

/** Each recorded epoch's best `k` architectures under the constraints (exact search on that epoch's indicator). */
export function topKPerEpoch(s: SupernetInput, constraints: Constraints, k: number): { epoch: number; best: number[][] }[] {
  const epochs = (s.training?.history ?? []).filter((e) => e.scores && e.scores.length === s.loaded.structure.layers.length);
  return epochs.map((e) => ({ epoch: e.epoch, best: exactTopK(problemFor(s, e.scores!), constraints, k).map((x) => x.arch) }));
}
