/**
 * Exact top-K search. The indicator is a sum over layers, so the best architectures under
 * MACs/params limits are found by branch and bound over layers with admissible bounds:
 *  - feasibility: the cheapest (dearest, for --min-macs) completion of the remaining layers;
 *  - score: the best completion of the remaining layers whose *rounded-down* MACs (and, separately,
 *    params) fit the remaining budget, from a knapsack table over budget buckets. Rounding costs
 *    down only relaxes the limit, so the bound is never below the true best completion.
 * A branch is cut only when even its bound cannot reach the K-th best found so far, so the result
 * is the exact top K (ranked as compareEvaluated: score, then fewer MACs, then smaller arch).
 *
 * Scores are searched as integers (each candidate's score on a grid of 2^-k, k as fine as keeps
 * every sum below 2^52, typically ~2^-46), so sums and bounds are exact whatever the order of
 * addition, and ties can be cut safely: a branch that can at best tie the K-th score and cannot
 * have fewer MACs is dropped. Without that, an untrained supernet (every gamma 1, all scores
 * tied) would make the search enumerate the space. Scores closer than the grid rank as ties.
 */
import type { Constraints, Evaluated, SearchProblem } from "./problem.js";
import { TopK, compareEvaluated, evaluate, feasible } from "./problem.js";

/** Buckets of the knapsack bound tables; more is tighter and slower to build. */
const BUCKETS = 4096;

interface KnapsackBound {
  unit: number;
  /** best[l * (BUCKETS + 1) + b]: best score of layers l.. with sum floor(cost / unit) <= b. */
  best: Float64Array;
}

function knapsackBound(p: SearchProblem, qscore: Float64Array[], cost: (l: number, c: number) => number, budget: number): KnapsackBound | undefined {
  if (!Number.isFinite(budget)) return undefined;
  if (budget < 0) budget = 0;
  const L = p.layers.length;
  const W = BUCKETS + 1;
  const unit = Math.max(1, Math.ceil(budget / BUCKETS));
  const best = new Float64Array((L + 1) * W);
  for (let l = L - 1; l >= 0; l--) {
    const layer = p.layers[l]!;
    const items = layer.choices.map((c) => ({ w: Math.floor(Math.floor(cost(l, c)) / unit), s: qscore[l]![c]! }));
    for (let b = 0; b < W; b++) {
      let m = -Infinity;
      for (const it of items) {
        if (it.w > b) continue;
        const v = it.s + best[(l + 1) * W + b - it.w]!;
        if (v > m) m = v;
      }
      best[l * W + b] = m;
    }
  }
  return { unit, best };
}

function lookup(k: KnapsackBound | undefined, l: number, remaining: number): number {
  if (!k) return Infinity;
  if (remaining < 0) return -Infinity;
  const b = Math.min(BUCKETS, Math.floor(remaining / k.unit));
  return k.best[l * (BUCKETS + 1) + b]!;
}

export interface ExactStats {
  /** Search-tree nodes visited. */
  nodes: number;
}

export function exactTopK(p: SearchProblem, constraints: Constraints, top: number, stats?: ExactStats): Evaluated[] {
  const L = p.layers.length;
  // Integer scores: every partial sum stays below 2^52, so additions are exact.
  let maxAbs = 0;
  for (const layer of p.layers) for (const c of layer.choices) maxAbs = Math.max(maxAbs, Math.abs(layer.score[c]!));
  const scale = 2 ** Math.floor(Math.log2(2 ** 52 / (L * Math.max(maxAbs, 2 ** -100) + 1)));
  const qscore = p.layers.map((layer) => layer.score.map((s) => Math.round(s * scale)));
  const maxMacs = (constraints.maxMacs ?? Infinity) - p.fixed.macs;
  const minMacs = (constraints.minMacs ?? -Infinity) - p.fixed.macs;
  const maxParams = (constraints.maxParams ?? Infinity) - p.fixed.params;
  // Suffix extremes over layers l..L-1.
  const minMacsAfter = new Float64Array(L + 1);
  const maxMacsAfter = new Float64Array(L + 1);
  const minParamsAfter = new Float64Array(L + 1);
  const maxScoreAfter = new Float64Array(L + 1);
  for (let l = L - 1; l >= 0; l--) {
    const layer = p.layers[l]!;
    const m = layer.choices.map((c) => layer.macs[c]!);
    minMacsAfter[l] = minMacsAfter[l + 1]! + Math.min(...m);
    maxMacsAfter[l] = maxMacsAfter[l + 1]! + Math.max(...m);
    minParamsAfter[l] = minParamsAfter[l + 1]! + Math.min(...layer.choices.map((c) => layer.params[c]!));
    maxScoreAfter[l] = maxScoreAfter[l + 1]! + Math.max(...layer.choices.map((c) => qscore[l]![c]!));
  }
  const macsBound = knapsackBound(p, qscore, (l, c) => p.layers[l]!.macs[c]!, maxMacs);
  const paramsBound = knapsackBound(p, qscore, (l, c) => p.layers[l]!.params[c]!, maxParams);
  // Try high-scoring candidates first: good solutions early make the cut sharp.
  const order = p.layers.map((layer, l) => layer.choices.slice().sort((a, b) => qscore[l]![b]! - qscore[l]![a]! || a - b));
  // Ranked by integer score, then MACs, then arch; `score` is reported as evaluate() computes it.
  const best = new TopK<Evaluated & { q: number }>(top, (a, b) => compareEvaluated({ ...a, score: a.q }, { ...b, score: b.q }));
  const arch = new Array<number>(L).fill(0);
  let nodes = 0;

  const visit = (l: number, q: number, macs: number, params: number): void => {
    nodes++;
    if (l === L) {
      const e = evaluate(p, arch);
      if (feasible(constraints, e.macs, e.params)) best.offer({ ...e, q });
      return;
    }
    const layer = p.layers[l]!;
    for (const c of order[l]!) {
      const nm = macs + layer.macs[c]!;
      const np = params + layer.params[c]!;
      if (nm + minMacsAfter[l + 1]! > maxMacs) continue;
      if (np + minParamsAfter[l + 1]! > maxParams) continue;
      if (nm + maxMacsAfter[l + 1]! < minMacs) continue;
      const nq = q + qscore[l]![c]!;
      const bound = Math.min(maxScoreAfter[l + 1]!, lookup(macsBound, l + 1, maxMacs - nm), lookup(paramsBound, l + 1, maxParams - np));
      if (bound === -Infinity) continue; // no completion fits the budget
      if (best.items.length >= top) {
        const kth = best.items[top - 1]!;
        if (nq + bound < kth.q) continue;
        // At best a tie: only fewer (or as few) MACs could still rank it above the K-th.
        if (nq + bound === kth.q && nm + minMacsAfter[l + 1]! + p.fixed.macs > kth.macs) continue;
      }
      arch[l] = c;
      visit(l + 1, nq, nm, np);
    }
  };
  visit(0, 0, 0, 0);
  if (stats) stats.nodes = nodes;
  return best.items.map(({ q: _q, ...e }) => e);
}
