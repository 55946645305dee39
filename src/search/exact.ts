/**
 * Exact top-K search. The indicator is a sum over layers, so the best architectures under
 * MACs/params/latency limits are found by branch and bound over layers with admissible bounds:
 *  - feasibility: the cheapest (dearest, for --min-macs) completion of the remaining layers;
 *  - score: the best completion of the remaining layers whose *rounded-down* MACs (and, separately,
 *    params and latency) fit the remaining budget, from a knapsack table over budget buckets.
 *    Rounding costs down only relaxes the limit, so the bound is never below the true best completion.
 * Latencies are real numbers (ms) summed in another order here than evaluate() sums them, so
 * pruning on latency allows a relative slack of 1e-9; the final check is evaluate()'s, exact.
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

function knapsackBound(p: SearchProblem, qscore: Float64Array[], cost: (l: number, c: number) => number, budget: number, real = false): KnapsackBound | undefined {
  if (!Number.isFinite(budget)) return undefined;
  if (budget < 0) budget = 0;
  const L = p.layers.length;
  const W = BUCKETS + 1;
  // Counts (MACs, params) in whole units; real costs (latency) in budget/BUCKETS steps.
  const unit = real ? Math.max(budget / BUCKETS, Number.MIN_VALUE) : Math.max(1, Math.ceil(budget / BUCKETS));
  const best = new Float64Array((L + 1) * W);
  for (let l = L - 1; l >= 0; l--) {
    const layer = p.layers[l]!;
    // A real cost's weight is rounded down a hair further, so float division never rounds it up.
    const items = layer.choices.map((c) => ({ w: real ? Math.max(0, Math.floor(cost(l, c) / unit - 1e-9)) : Math.floor(Math.floor(cost(l, c)) / unit), s: qscore[l]![c]! }));
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

/** Scores on an integer grid (see the header): every partial sum below 2^52, so additions are exact. */
function quantizedScores(p: SearchProblem): Float64Array[] {
  let maxAbs = 0;
  for (const layer of p.layers) for (const c of layer.choices) maxAbs = Math.max(maxAbs, Math.abs(layer.score[c]!));
  const scale = 2 ** Math.floor(Math.log2(2 ** 52 / (p.layers.length * Math.max(maxAbs, 2 ** -100) + 1)));
  return p.layers.map((layer) => layer.score.map((s) => Math.round(s * scale)));
}

export function exactTopK(p: SearchProblem, constraints: Constraints, top: number, stats?: ExactStats): Evaluated[] {
  const L = p.layers.length;
  const qscore = quantizedScores(p);
  const maxMacs = (constraints.maxMacs ?? Infinity) - p.fixed.macs;
  const minMacs = (constraints.minMacs ?? -Infinity) - p.fixed.macs;
  const maxParams = (constraints.maxParams ?? Infinity) - p.fixed.params;
  const latencyOf = (l: number, c: number) => p.layers[l]!.latency![c]!;
  const limitLatency = constraints.maxLatency !== undefined;
  if (limitLatency && p.fixed.latency === undefined) throw new Error("exactTopK: a latency limit needs a problem with latencies");
  // Relative slack for sums of reals taken in another order than evaluate() takes them.
  const slack = limitLatency ? 1e-9 * Math.max(1, Math.abs(constraints.maxLatency!)) : 0;
  const maxLatency = limitLatency ? constraints.maxLatency! - p.fixed.latency! + slack : Infinity;
  // Suffix extremes over layers l..L-1.
  const minMacsAfter = new Float64Array(L + 1);
  const maxMacsAfter = new Float64Array(L + 1);
  const minParamsAfter = new Float64Array(L + 1);
  const minLatencyAfter = new Float64Array(L + 1);
  const maxScoreAfter = new Float64Array(L + 1);
  for (let l = L - 1; l >= 0; l--) {
    const layer = p.layers[l]!;
    const m = layer.choices.map((c) => layer.macs[c]!);
    minMacsAfter[l] = minMacsAfter[l + 1]! + Math.min(...m);
    maxMacsAfter[l] = maxMacsAfter[l + 1]! + Math.max(...m);
    minParamsAfter[l] = minParamsAfter[l + 1]! + Math.min(...layer.choices.map((c) => layer.params[c]!));
    if (limitLatency) minLatencyAfter[l] = minLatencyAfter[l + 1]! + Math.min(...layer.choices.map((c) => latencyOf(l, c)));
    maxScoreAfter[l] = maxScoreAfter[l + 1]! + Math.max(...layer.choices.map((c) => qscore[l]![c]!));
  }
  const macsBound = knapsackBound(p, qscore, (l, c) => p.layers[l]!.macs[c]!, maxMacs);
  const paramsBound = knapsackBound(p, qscore, (l, c) => p.layers[l]!.params[c]!, maxParams);
  const latencyBound = limitLatency ? knapsackBound(p, qscore, latencyOf, maxLatency, true) : undefined;
  // Try high-scoring candidates first: good solutions early make the cut sharp.
  const order = p.layers.map((layer, l) => layer.choices.slice().sort((a, b) => qscore[l]![b]! - qscore[l]![a]! || a - b));
  // Ranked by integer score, then MACs, then arch; `score` is reported as evaluate() computes it.
  const best = new TopK<Evaluated & { q: number }>(top, (a, b) => compareEvaluated({ ...a, score: a.q }, { ...b, score: b.q }));
  const arch = new Array<number>(L).fill(0);
  let nodes = 0;

  const visit = (l: number, q: number, macs: number, params: number, latency: number): void => {
    nodes++;
    if (l === L) {
      const e = evaluate(p, arch);
      if (feasible(constraints, e)) best.offer({ ...e, q });
      return;
    }
    const layer = p.layers[l]!;
    for (const c of order[l]!) {
      const nm = macs + layer.macs[c]!;
      const np = params + layer.params[c]!;
      const nt = limitLatency ? latency + latencyOf(l, c) : 0;
      if (nm + minMacsAfter[l + 1]! > maxMacs) continue;
      if (np + minParamsAfter[l + 1]! > maxParams) continue;
      if (nm + maxMacsAfter[l + 1]! < minMacs) continue;
      if (nt + minLatencyAfter[l + 1]! > maxLatency) continue;
      const nq = q + qscore[l]![c]!;
      const bound = Math.min(maxScoreAfter[l + 1]!, lookup(macsBound, l + 1, maxMacs - nm), lookup(paramsBound, l + 1, maxParams - np), lookup(latencyBound, l + 1, maxLatency - nt));
      if (bound === -Infinity) continue; // no completion fits the budget
      if (best.items.length >= top) {
        const kth = best.items[top - 1]!;
        if (nq + bound < kth.q) continue;
        // At best a tie: only fewer (or as few) MACs could still rank it above the K-th.
        if (nq + bound === kth.q && nm + minMacsAfter[l + 1]! + p.fixed.macs > kth.macs) continue;
      }
      arch[l] = c;
      visit(l + 1, nq, nm, np, nt);
    }
  };
  visit(0, 0, 0, 0, 0);
  if (stats) stats.nodes = nodes;
  return best.items.map(({ q: _q, ...e }) => e);
}

interface FrontState {
  q: number;
  /** Latency of the layers so far (without the fixed part). */
  t: number;
  macs: number;
  params: number;
  arch: number[];
}

/**
 * The exact score/latency Pareto front under the limits: every feasible architecture that no
 * other feasible one beats on both (a higher or equal score at a lower or equal latency, one of
 * them strictly), fastest first, so each next point scores strictly higher than all faster ones.
 * Among architectures with the same score and latency, the one compareEvaluated ranks first.
 *
 * Dynamic programming over layers: score and latency are sums over layers, so a partial
 * architecture dominated in (score, latency, and each limited cost) by another with the same
 * layers left can never complete to a front point, and is dropped; the fronts stay small.
 * Latencies are compared as summed; values equal up to rounding count as different.
 */
export function exactPareto(p: SearchProblem, constraints: Constraints): Evaluated[] {
  if (p.fixed.latency === undefined) throw new Error("exactPareto: the problem has no latencies");
  const L = p.layers.length;
  const qscore = quantizedScores(p);
  const latencyOf = (l: number, c: number) => p.layers[l]!.latency![c]!;
  const maxMacs = (constraints.maxMacs ?? Infinity) - p.fixed.macs;
  const minMacs = (constraints.minMacs ?? -Infinity) - p.fixed.macs;
  const maxParams = (constraints.maxParams ?? Infinity) - p.fixed.params;
  const maxLatency = constraints.maxLatency !== undefined ? constraints.maxLatency - p.fixed.latency + 1e-9 * Math.max(1, Math.abs(constraints.maxLatency)) : Infinity;
  const minAfter = (f: (l: number, c: number) => number, pick: (xs: number[]) => number) => {
    const out = new Float64Array(L + 1);
    for (let l = L - 1; l >= 0; l--) out[l] = out[l + 1]! + pick(p.layers[l]!.choices.map((c) => f(l, c)));
    return out;
  };
  const minMacsAfter = minAfter((l, c) => p.layers[l]!.macs[c]!, (x) => Math.min(...x));
  const maxMacsAfter = minAfter((l, c) => p.layers[l]!.macs[c]!, (x) => Math.max(...x));
  const minParamsAfter = minAfter((l, c) => p.layers[l]!.params[c]!, (x) => Math.min(...x));
  const minLatencyAfter = minAfter(latencyOf, (x) => Math.min(...x));
  // The limited costs are dimensions of dominance too: a cheaper partial may fit where a dearer cannot.
  const useMacsMax = constraints.maxMacs !== undefined;
  const useMacsMin = constraints.minMacs !== undefined;
  const useParams = constraints.maxParams !== undefined;
  const archBefore = (a: number[], b: number[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
    return false;
  };
  /** Whether `a` is at least as good as `b` everywhere it matters (ties: fewer MACs, then the smaller arch). */
  const covers = (a: FrontState, b: FrontState): boolean => {
    if (a.q < b.q || a.t > b.t) return false;
    if (useMacsMax && a.macs > b.macs) return false;
    if (useMacsMin && a.macs < b.macs) return false;
    if (useParams && a.params > b.params) return false;
    if (a.q > b.q || a.t < b.t || ((useMacsMax || useMacsMin) && a.macs !== b.macs) || (useParams && a.params !== b.params)) return true;
    // Equal in every dimension: compareEvaluated's tie-breaks (the completions are the same).
    return a.macs < b.macs || (a.macs === b.macs && archBefore(a.arch, b.arch));
  };
  const prune = (states: FrontState[]): FrontState[] => {
    // Fastest first, then the best score: a state is kept unless one kept before covers it.
    states.sort((a, b) => a.t - b.t || b.q - a.q || a.macs - b.macs || (archBefore(a.arch, b.arch) ? -1 : 1));
    const kept: FrontState[] = [];
    let bestQ = -Infinity;
    const onlyTwo = !useMacsMax && !useMacsMin && !useParams;
    for (const s of states) {
      if (onlyTwo) {
        // Sorted by t, then q descending, then the tie-breaks: only a strictly higher score survives.
        if (s.q > bestQ) {
          kept.push(s);
          bestQ = s.q;
        }
      } else if (!kept.some((k) => covers(k, s))) kept.push(s);
    }
    return kept;
  };
  let states: FrontState[] = [{ q: 0, t: 0, macs: 0, params: 0, arch: [] }];
  for (let l = 0; l < L; l++) {
    const layer = p.layers[l]!;
    const next: FrontState[] = [];
    for (const s of states) {
      for (const c of layer.choices) {
        const n: FrontState = { q: s.q + qscore[l]![c]!, t: s.t + latencyOf(l, c), macs: s.macs + layer.macs[c]!, params: s.params + layer.params[c]!, arch: [...s.arch, c] };
        if (n.macs + minMacsAfter[l + 1]! > maxMacs || n.params + minParamsAfter[l + 1]! > maxParams || n.macs + maxMacsAfter[l + 1]! < minMacs) continue;
        if (n.t + minLatencyAfter[l + 1]! > maxLatency) continue;
        next.push(n);
      }
    }
    states = prune(next);
  }
  // Exact limits on the final values, then the 2-D front itself.
  const done = states.map((s) => ({ s, e: evaluate(p, s.arch) })).filter(({ e }) => feasible(constraints, e));
  done.sort((a, b) => a.e.latency! - b.e.latency! || b.s.q - a.s.q || compareEvaluated(a.e, b.e));
  const front: Evaluated[] = [];
  let bestQ = -Infinity;
  for (const { s, e } of done) {
    if (s.q > bestQ) {
      front.push(e);
      bestQ = s.q;
    }
  }
  return front;
}
