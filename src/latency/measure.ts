/**
 * Timing ONNX models on onnxruntime, robust to a shared, noisy machine: every model gets its own
 * session; after warm-up rounds, each timed round runs every model once, in a fresh seeded
 * order (interleaved, so a burst of load elsewhere lands on all models alike instead of on
 * whichever was being timed); a model's latency is the median over rounds.
 *
 * Each model's outputs are reduced to one element (a Slice appended to the graph) before timing,
 * so every run returns the same few bytes to JavaScript, as a whole classifier does with its
 * logits: the copy of a large activation back into JS would otherwise be timed as the block's.
 */
import { make, type ModelProto, type NodeProto } from "../onnx/proto.js";
import { int64Tensor } from "../onnx/tensor.js";
import { Session, type Device } from "../runtime/ort.js";
import { Random } from "../util/random.js";

export interface MeasureOptions {
  device: Device;
  threads: number;
  /** Timed rounds. */
  repeats: number;
  /** Untimed rounds before them (allocations, prepacking, caches, frequency ramp-up). */
  warmup: number;
  /**
   * A sample is the mean of back-to-back runs lasting about this long (ms; at least one run),
   * after untimed runs (warmMs) that re-warm the model's weights in the caches and its thread
   * pool after the other models ran: "warm" latency. Short models are thus timed over several runs,
   * above the timer's and the scheduler's granularity. Default 2.
   */
  sampleMs?: number;
  /**
   * Before each sample, untimed back-to-back runs of the same model lasting at least this long
   * (ms; at least one run): the model's weights and buffers back in the caches. Default 10.
   */
  warmMs?: number;
  /**
   * Idle time before each model's turn (ms). onnxruntime's worker threads spin-wait after a run
   * (as they do in deployment, where they wait for the same model's next request); the next
   * model's run then shares the cores with the previous session's spinning workers. Measured at
   * batch 128 on this 2-vCPU machine, 10 subnets interleaved: median 13.6 ms (p10-p90 8.9-20.6)
   * with no idle time, 8.0 ms (7.8-9.7) with 10 ms, as one subnet alone; with 50 subnets 10 ms
   * left a p90 of 28 ms and 30 ms gave 9.5 ms (7.9-10.1). Default 30.
   */
  idleMs?: number;
  /** Pin each session's worker threads to processors 2..threads (see RuntimeOptions.pinThreads). */
  pinThreads?: boolean;
  /** Seed of the interleaving order. */
  seed?: number;
  /** Progress: sessions created, then rounds run (warm-up rounds included). */
  onProgress?: (phase: "sessions" | "rounds", done: number, total: number) => void;
}

/** How each sample is taken: what a table records and its validation repeats. */
export type TimingSettings = Pick<MeasureOptions, "sampleMs" | "warmMs" | "idleMs" | "pinThreads">;

/** Summary of one model's timings, in milliseconds (ProxylessNAS/OFA's count, mean, var, plus robust statistics). */
export interface TimingStats {
  count: number;
  mean: number;
  /** Population variance (ms^2), as the OFA latency tables give it. */
  var: number;
  median: number;
  min: number;
  /** 10th and 90th percentiles: the spread the median hides. */
  p10: number;
  p90: number;
}

export const DEFAULT_WARM_MS = 10;
export const DEFAULT_IDLE_MS = 30;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const ZERO_STATS: TimingStats = { count: 0, mean: 0, var: 0, median: 0, min: 0, p10: 0, p90: 0 };

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function timingStats(samples: readonly number[]): TimingStats {
  if (samples.length === 0) return { ...ZERO_STATS };
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  const v = samples.reduce((s, x) => s + (x - mean) ** 2, 0) / samples.length;
  return { count: samples.length, mean, var: v, median: quantile(sorted, 0.5), min: sorted[0]!, p10: quantile(sorted, 0.1), p90: quantile(sorted, 0.9) };
}

/** A copy of `model` whose only output is one element of its first output. */
export function withTinyOutput(model: ModelProto, rank: number): ModelProto {
  const graph = model.graph!;
  const out = graph.output[0]!.name;
  const tiny = `${out}.latency_probe`;
  const name = (s: string) => `${out}.latency_probe.${s}`;
  const ones = new Array<number>(rank).fill(1);
  const zeros = new Array<number>(rank).fill(0);
  const slice: NodeProto = make.node({ name: name("slice"), opType: "Slice", input: [out, name("starts"), name("ends")], output: [tiny] });
  return make.model({
    ...model,
    graph: make.graph({
      ...graph,
      node: [...graph.node, slice],
      initializer: [...graph.initializer, int64Tensor(name("starts"), [rank], zeros), int64Tensor(name("ends"), [rank], ones)],
      output: [make.valueInfo({ name: tiny, type: { tensorType: { elemType: graph.output[0]!.type?.tensorType?.elemType ?? 1, shape: { dim: ones.map((d) => ({ dimValue: d })) } } } })],
    }),
  });
}

/** What to time: a model (already reduced to a tiny output) and the shape of its one float input. */
export interface Timed {
  model: ModelProto;
  input: { name: string; shape: number[] };
}

/**
 * Times each model: `repeats` interleaved rounds after `warmup` rounds. Returns each model's
 * samples (ms), in the order given.
 */
export async function timeModels(items: readonly Timed[], options: MeasureOptions): Promise<number[][]> {
  const rng = new Random(options.seed ?? 0);
  const sessions: Session[] = [];
  try {
    for (const it of items) {
      sessions.push(await Session.create(it.model, { device: options.device, threads: options.threads, pinThreads: options.pinThreads }));
      options.onProgress?.("sessions", sessions.length, items.length);
    }
    const feeds = items.map((it) => {
      const n = it.input.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = rng.uniform() * 2 - 1;
      return { [it.input.name]: { dims: it.input.shape, data } };
    });
    const samples = items.map(() => [] as number[]);
    const order = items.map((_, i) => i);
    const total = options.warmup + options.repeats;
    const sampleMs = options.sampleMs ?? 2;
    const warmMs = options.warmMs ?? DEFAULT_WARM_MS;
    const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    // Runs per sample, per model: set from its last warm-up run (or its first timed round).
    const inner = items.map(() => 0);
    for (let round = 0; round < total; round++) {
      // Fisher-Yates with the seeded stream: the same seed gives the same schedule.
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const i of order) {
        const session = sessions[i]!;
        if (idleMs > 0) await sleep(idleMs);
        const w0 = performance.now();
        let warmRuns = 0;
        do {
          await session.run(feeds[i]!);
          warmRuns++;
        } while (performance.now() - w0 < warmMs);
        const once = (performance.now() - w0) / warmRuns;
        if (round >= options.warmup - 1 && inner[i] === 0) inner[i] = Math.max(1, Math.min(200, Math.round(sampleMs / Math.max(once, 1e-3))));
        if (round < options.warmup) continue;
        const runs = inner[i]!;
        const t0 = performance.now();
        for (let r = 0; r < runs; r++) await session.run(feeds[i]!);
        samples[i]!.push((performance.now() - t0) / runs);
      }
      options.onProgress?.("rounds", round + 1, total);
    }
    return samples;
  } finally {
    for (const s of sessions) await s.release();
  }
}
