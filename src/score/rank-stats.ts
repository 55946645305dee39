/**
 * Rank agreement between two score lists over the same items (an indicator's scores and trained
 * accuracies): Kendall's tau-b and Spearman's rho, both tie-aware, with percentile bootstrap
 * intervals over the items, and the top-k precision a searcher cares about.
 */
import { Random } from "../util/random.js";

/** Kendall's tau-b: (concordant - discordant) / sqrt((n0 - ties in a)(n0 - ties in b)); NaN when one list is constant. */
export function kendallTau(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const da = Math.sign(a[i]! - a[j]!);
      const db = Math.sign(b[i]! - b[j]!);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return denom === 0 ? NaN : (concordant - discordant) / denom;
}

/** Ranks 1..n, ties sharing the average of their ranks. */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: x.length }, (_, i) => i).sort((i, j) => x[i]! - x[j]!);
  const ranks = new Float64Array(x.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && x[order[end + 1]!] === x[order[start]!]) end++;
    const r = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]!] = r;
    start = end + 1;
  }
  return ranks;
}

/** Spearman's rho: Pearson correlation of the average ranks; NaN when one list is constant. */
export function spearmanRho(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const n = ra.length;
  const mean = (n + 1) / 2;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i]! - mean, db = rb[i]! - mean;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? NaN : sab / Math.sqrt(saa * sbb);
}

export interface WithInterval {
  value: number;
  /** Percentile bootstrap 95% interval over the items (resampled with replacement). */
  ci95: [number, number];
}

/** `stat` on the items and its 2.5th/97.5th bootstrap percentiles over `rounds` resamples (seeded); resamples where stat is NaN are dropped. */
export function bootstrap(a: ArrayLike<number>, b: ArrayLike<number>, stat: (a: Float64Array, b: Float64Array) => number, rounds: number, seed: number): WithInterval {
  const n = a.length;
  const rng = new Random(seed);
  const values: number[] = [];
  const ra = new Float64Array(n);
  const rb = new Float64Array(n);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) {
      const k = rng.int(n);
      ra[i] = a[k]!;
      rb[i] = b[k]!;
    }
    const v = stat(ra, rb);
    if (!Number.isNaN(v)) values.push(v);
  }
  values.sort((x, y) => x - y);
  const at = (q: number) => (values.length ? values[Math.min(values.length - 1, Math.max(0, Math.round(q * (values.length - 1))))]! : NaN);
  return { value: stat(Float64Array.from(a), Float64Array.from(b)), ci95: [at(0.025), at(0.975)] };
}

/** Of the best ceil(fraction*n) items by `predicted`, the share that is among the best ceil(fraction*n) by `truth`. */
export function topPrecision(predicted: ArrayLike<number>, truth: ArrayLike<number>, fraction = 0.1): number {
  const n = predicted.length;
  const k = Math.max(1, Math.ceil(fraction * n));
  const best = (x: ArrayLike<number>) => new Set(Array.from({ length: n }, (_, i) => i).sort((i, j) => x[j]! - x[i]! || i - j).slice(0, k));
  const p = best(predicted);
  let hits = 0;
  for (const i of best(truth)) if (p.has(i)) hits++;
  return hits / k;
}

/** The truth percentile (0..100) of the item `predicted` ranks first: the share of items whose truth is at or below its truth. */
export function bestPercentile(predicted: ArrayLike<number>, truth: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < predicted.length; i++) if (predicted[i]! > predicted[best]!) best = i;
  let atOrBelow = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i]! <= truth[best]!) atOrBelow++;
  return (100 * atOrBelow) / truth.length;
}
