/**
 * Per-candidate latencies fitted to whole networks. A block timed as a standalone model is not
 * what the same block costs inside a network: on its own it converts its input into
 * onnxruntime's blocked layout and back, reads an input that is not in cache and runs after
 * another session's threads; inside a network none of that happens at its borders. Measured on
 * a 2-vCPU machine, whole subnets took 0.71-0.97x their summed blocks at batch 1 and 1.10-1.44x
 * at batch 128, the ratio depending on the architecture, so no single factor could correct it.
 *
 * So the table also times K random whole subnets (in rounds of their own, as a user's network
 * runs) and fits, by least squares on the relative error, one additive cost per candidate plus
 * one intercept (stem, head, per-run overhead): the in-network cost of each block. The
 * prediction stays a sum over layers, so exact search and the Pareto front take it as they take
 * the standalone costs. With ~40 costs and tens of subnets the fit is held to the standalone
 * measurements (scaled by the median measured/summed ratio) by a ridge penalty whose strength is
 * chosen by 5-fold cross-validation; the cross-validated error is kept in the table as the fit's
 * own estimate of how well it predicts networks it has not seen. Costs are kept non-negative.
 */

/** One row of the design: the candidate index chosen in each layer (into that layer's columns). */
export type Choice = readonly number[];

export interface FitProblem {
  /** Per layer, the prior cost of each candidate (ms); also fixes the number of columns. */
  priorCandidates: readonly (readonly number[])[];
  /** Prior of what every network pays (ms). */
  priorIntercept: number;
  /** The measured networks: chosen candidate index per layer, and latency (ms, > 0). */
  choices: readonly Choice[];
  measured: readonly number[];
}

export interface FitResult {
  intercept: number;
  /** Per layer, per candidate (same order as priorCandidates), ms, >= 0. */
  candidates: number[][];
  /** The ridge strength chosen (in units of one network's squared relative error). */
  lambda: number;
  /** 5-fold cross-validated relative errors, one per measured network (predicted / measured - 1). */
  cvErrors: number[];
}

/** Strengths tried; the prior counts as `lambda` networks' worth of squared relative error per cost. */
export const LAMBDAS = [0.001, 0.01, 0.03, 0.1, 0.3, 1, 3, 10] as const;

/** Solves the symmetric positive-definite system a x = b (a is n x n, row-major), by Cholesky. */
export function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) throw new Error(`solveSpd: matrix not positive definite at ${i}`);
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / l[j * n + j]!;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * y[k]!;
    y[i] = s / l[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  return x;
}

/** Column of each (layer, candidate): column 0 is the intercept. */
function columns(prior: readonly (readonly number[])[]): { offset: number[]; count: number } {
  const offset: number[] = [];
  let count = 1;
  for (const layer of prior) offset.push(count), (count += layer.length);
  return { offset, count };
}

/**
 * Ridge-regularised weighted least squares with the costs kept >= 0 (an active set: a cost that
 * comes out negative is pinned at 0 and the rest refitted). Rows are weighted by 1/measured^2, so
 * the loss is the squared relative error; the prior term is lambda * sum ((theta - prior) / scale)^2
 * with scale the mean measured latency, i.e. lambda networks' worth of relative error.
 */
function fitRows(p: FitProblem, rows: readonly number[], lambda: number): { intercept: number; candidates: number[][] } {
  const { offset, count } = columns(p.priorCandidates);
  const prior = new Float64Array(count);
  prior[0] = p.priorIntercept;
  p.priorCandidates.forEach((layer, l) => layer.forEach((v, k) => (prior[offset[l]! + k] = v)));
  const scale = rows.reduce((s, r) => s + p.measured[r]!, 0) / Math.max(1, rows.length);
  const pinned = new Set<number>();
  let theta = prior;
  for (let iteration = 0; iteration <= count; iteration++) {
    const free = [...Array(count).keys()].filter((j) => !pinned.has(j));
    const index = new Map(free.map((j, i) => [j, i]));
    const n = free.length;
    const a = new Float64Array(n * n);
    const b = new Float64Array(n);
    for (const r of rows) {
      const y = p.measured[r]!;
      const w = 1 / (y * y);
      const cols = [0, ...p.choices[r]!.map((k, l) => offset[l]! + k)].filter((j) => index.has(j)).map((j) => index.get(j)!);
      for (const i of cols) {
        b[i] += w * y;
        for (const j of cols) a[i * n + j] += w;
      }
    }
    const ridge = lambda / (scale * scale);
    free.forEach((j, i) => {
      a[i * n + i] += ridge;
      b[i] += ridge * prior[j]!;
    });
    const x = solveSpd(a, b, n);
    theta = new Float64Array(count);
    free.forEach((j, i) => (theta[j] = x[i]!));
    const negative = free.filter((j) => j > 0 && theta[j]! < 0);
    if (negative.length === 0) break;
    for (const j of negative) pinned.add(j), (theta[j] = 0);
  }
  return { intercept: theta[0]!, candidates: p.priorCandidates.map((layer, l) => layer.map((_, k) => theta[offset[l]! + k]!)) };
}

const predictRow = (fit: { intercept: number; candidates: number[][] }, choice: Choice) => choice.reduce((t, k, l) => t + fit.candidates[l]![k]!, fit.intercept);

/** Each network's error when predicted by a fit made without its fold (folds: row index mod 5). */
function crossValidated(p: FitProblem, lambda: number): number[] {
  const folds = Math.min(5, p.measured.length);
  const errors = new Array<number>(p.measured.length);
  for (let f = 0; f < folds; f++) {
    const train = p.measured.map((_, r) => r).filter((r) => r % folds !== f);
    const fit = fitRows(p, train, lambda);
    p.measured.forEach((y, r) => {
      if (r % folds === f) errors[r] = predictRow(fit, p.choices[r]!) / y - 1;
    });
  }
  return errors;
}

/** The fit with the ridge strength whose cross-validated mean squared relative error is least. */
export function fitLatencies(p: FitProblem): FitResult {
  if (p.choices.length !== p.measured.length) throw new Error("fitLatencies: one measurement per network");
  if (p.measured.length < 2) throw new Error("fitLatencies: at least 2 networks");
  let best: { lambda: number; cvErrors: number[]; loss: number } | undefined;
  for (const lambda of LAMBDAS) {
    const cvErrors = crossValidated(p, lambda);
    const loss = cvErrors.reduce((s, e) => s + e * e, 0);
    if (!best || loss < best.loss) best = { lambda, cvErrors, loss };
  }
  const all = p.measured.map((_, r) => r);
  return { ...fitRows(p, all, best!.lambda), lambda: best!.lambda, cvErrors: best!.cvErrors };
}
