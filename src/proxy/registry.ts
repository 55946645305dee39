/**
 * Every indicator `--indicator` can name, in one place:
 * - the decomposable ones (score/registry.ts: bn, macs, params): per-candidate scores that sum
 *   over layers, so exact search works and an architecture costs microseconds;
 * - the zero-cost proxies (zero-cost.ts: synflow, snip, grad_norm, naswot): one path evaluation
 *   on onnxruntime per architecture;
 * - `oneshot` (oneshot.ts): SPOS's one-shot accuracy of a path with the supernet's shared weights;
 * - `ensemble:A,B[,...]`: the rank average of two or more of the above (ensemble.ts).
 * Each resolves to an `ArchIndicator` that scores whole architectures; the decomposable ones also
 * carry their per-candidate table.
 */
import { OptionError } from "../errors.js";
import { INDICATORS, getIndicator } from "../score/registry.js";
import { ArchScorer } from "../score/arch-scorer.js";
import type { LoadedSupernet } from "../supernet/load.js";
import { pathIndicator } from "./path-indicator.js";
import { inputImageShape, loadData } from "../data/load.js";
import { FASHION_MNIST_NORMALIZATION } from "../data/batches.js";
import type { Batch } from "../data/batches.js";
import { probeBatch } from "./probe-batch.js";
import { proxyScore, type ProxyName } from "./zero-cost.js";
import { ensembleIndicator } from "./ensemble.js";
import type { ArchIndicator } from "./arch-indicator.js";
import type { ProxyOptions } from "./proxy-options.js";
import { ONESHOT, oneshotIndicator } from "./oneshot.js";

export type { ArchIndicator } from "./arch-indicator.js";

export const PROXIES: readonly { name: ProxyName; description: string }[] = [
  { name: "synflow", description: "SynFlow (Tanaka et al. 2020): log sum |W| dR/d|W| of the linearised path on an all-ones input; data-free" },
  { name: "snip", description: "SNIP (Lee et al. 2019): sum |W * dL/dW| over the path's conv and linear weights, one minibatch" },
  { name: "grad_norm", description: "sum of the L2 norms of dL/dW over the path's conv and linear weights, one minibatch (Abdelfattah et al. 2021)" },
  { name: "naswot", description: "NASWOT (Mellor et al. 2021): log|det| of the ReLU-pattern Hamming kernel over one minibatch" },
];

export const ENSEMBLE_PREFIX = "ensemble:";

/** What --indicator accepts, for help texts. */
export function indicatorHelp(): string {
  return `${[...INDICATORS.map((i) => i.name), ...PROXIES.map((p) => p.name), ONESHOT.name].join(", ")}, or ${ENSEMBLE_PREFIX}A,B (rank average)`;
}

export type { ProxyOptions } from "./proxy-options.js";

/** Refuses a malformed or unknown name before any file is read. */
export function checkIndicatorName(name: string): void {
  if (name.startsWith(ENSEMBLE_PREFIX)) {
    const parts = name.slice(ENSEMBLE_PREFIX.length).split(",").map((s) => s.trim());
    if (parts.length < 2 || parts.some((p) => p === "")) throw new OptionError("indicator", (o) => `${o} ${name}: an ensemble names two or more indicators, e.g. ${ENSEMBLE_PREFIX}bn,naswot`);
    if (new Set(parts).size !== parts.length) throw new OptionError("indicator", (o) => `${o} ${name} names an indicator twice`);
    for (const p of parts) {
      if (p.startsWith(ENSEMBLE_PREFIX)) throw new OptionError("indicator", (o) => `${o} ${name}: ensembles do not nest`);
      checkIndicatorName(p);
    }
    return;
  }
  if (PROXIES.some((p) => p.name === name) || name === ONESHOT.name) return;
  if (INDICATORS.some((i) => i.name === name)) return;
  throw new OptionError("indicator", (o) => `${o} must be one of ${indicatorHelp()}, not '${name}'`);
}

export function isDecomposable(name: string): boolean {
  return INDICATORS.some((i) => i.name === name);
}

export function resolveIndicator(name: string, loaded: LoadedSupernet, options: ProxyOptions = {}): ArchIndicator {
  checkIndicatorName(name);
  if (name.startsWith(ENSEMBLE_PREFIX)) {
    const parts = name.slice(ENSEMBLE_PREFIX.length).split(",").map((s) => s.trim());
    return ensembleIndicator(name, parts.map((p) => resolveIndicator(p, loaded, options)), loaded.structure, options.seed ?? 0);
  }
  const table = INDICATORS.find((i) => i.name === name);
  if (table) {
    const indicator = getIndicator(name);
    const scores = indicator.score({ model: loaded.model, structure: loaded.structure, file: loaded.file });
    const scorer = new ArchScorer(loaded.structure, scores);
    return { name, description: indicator.description, perCandidate: scores, scoreArchs: async (archs) => archs.map((a) => scorer.score(a)) };
  }
  if (name === ONESHOT.name) return oneshotIndicator(loaded, options);
  const proxy = PROXIES.find((p) => p.name === name)!;
  return pathIndicator(
    loaded,
    { name, description: proxy.description, onEvaluated: options.onEvaluated },
    // The minibatch is drawn once, when first needed (synflow needs none, only the input shape).
    async (): Promise<Batch> => {
      const want = inputImageShape(loaded.structure.input.shape);
      return probeBatch(await loadData(options.data, "train", { ...options.dataOptions, ...(want ? { want } : {}) }), options.norm ?? loaded.manifest?.input.normalize ?? FASHION_MNIST_NORMALIZATION, options.batch ?? 64, options.seed ?? 0);
    },
    (model, batch) => proxyScore(proxy.name, model, { batch, classes: classCount(loaded), device: options.device, threads: options.threads }),
  );
}

/** Classes of the supernet's output (its logits' last dimension). */
function classCount(loaded: LoadedSupernet): number {
  const dims = loaded.model.graph!.output[0]?.type?.tensorType?.shape?.dim ?? [];
  const k = Number(dims.at(-1)?.dimValue ?? 0);
  if (!(k > 1)) throw new OptionError("indicator", (o) => `${o}: ${loaded.file}'s output has no fixed class dimension, which the loss-based proxies need`);
  return k;
}
