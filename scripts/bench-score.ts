/**
 * Benchmark of scoring and search on bnnas-mbv2 (the BN-NAS paper's ImageNet space).
 *
 *   npm run build && node dist/scripts/bench-score.js [--archs N] [--repeat R] [--no-peer]
 *
 * 1. Builds the bnnas-mbv2 supernet (A's export, with weights), gives every candidate's
 *    indicator BatchNorm seeded random gammas (as after training: uniform in [0.2, 1.6]) and
 *    reads the indicator table with the `bn` indicator, from the initializers.
 * 2. Scoring throughput: N random fixed-depth architectures scored by ArchScorer.scoreBatch
 *    (and one by one with score()); the peer is scripts/bench-score-peer.py, which scores the
 *    same kind of table the way the BN-NAS code does (a Python sum over layers) and with NumPy.
 * 3. Exact search under 475M MACs (the paper's limit), fixed depth (the paper's space) and the
 *    full space, top 1 and top 10; and the paper's evolution for comparison (time and best score).
 * Timings are wall-clock medians; on a shared machine they are noisy.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { builtinSpace } from "../src/space/builtins.js";
import { buildSupernet } from "../src/supernet/export.js";
import { structureFromManifest } from "../src/supernet/manifest.js";
import { bnIndicator } from "../src/score/bn.js";
import { ArchScorer } from "../src/score/arch-scorer.js";
import { GraphIndex } from "../src/onnx/graph.js";
import { floatTensor } from "../src/onnx/tensor.js";
import { Random, streamFor } from "../src/util/random.js";
import { fixedDepthChoices, problemFromStructure } from "../src/search/problem.js";
import { exactTopK } from "../src/search/exact.js";
import { evolutionSearch } from "../src/search/evolution.js";
import { arg } from "./args.js";
import { REPO_DIR } from "./peer-dir.js";

const N = Number(arg("archs", "2000000"));
const REPEAT = Number(arg("repeat", "5"));
const LIMIT = 475_000_000;

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function time<T>(f: () => T, repeat = REPEAT): { ms: number; result: T } {
  let result!: T;
  const ms: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const t = performance.now();
    result = f();
    ms.push(performance.now() - t);
  }
  return { ms: median(ms), result };
}

// 1. the supernet and its indicator table
let t0 = performance.now();
const spec = builtinSpace("bnnas-mbv2");
const { model, manifest } = buildSupernet(spec, { seed: 0 });
const structure = structureFromManifest(manifest);
console.log(`bnnas-mbv2 supernet built: ${model.graph!.initializer.length} initializers, ${model.graph!.node.length} nodes (${((performance.now() - t0) / 1000).toFixed(2)} s)`);
const index = new GraphIndex(model.graph!);
for (const layer of structure.layers) {
  for (const c of layer.candidates) {
    if (!c.indicator) continue;
    const t = index.initializers.get(c.indicator.scale)!;
    const rng = streamFor(1, c.indicator.scale);
    const n = Number(t.dims[0]);
    const g = Float32Array.from({ length: n }, () => 0.2 + 1.4 * rng.uniform());
    Object.assign(t, floatTensor(t.name, [n], g));
  }
}
t0 = performance.now();
const scores = bnIndicator.score({ model, structure, file: "bnnas-mbv2" });
console.log(`indicator table (${structure.layers.length} layers x ${structure.layers[0]!.candidates.length} candidates) read from the gammas in ${(performance.now() - t0).toFixed(1)} ms`);

// 2. scoring throughput
const scorer = new ArchScorer(structure, scores);
const fixedDepth = spec.fixedDepth ?? [];
const allowed = fixedDepthChoices(structure, fixedDepth);
const L = structure.layers.length;
const rng = new Random(5);
const archs = new Int32Array(N * L);
for (let a = 0; a < N; a++) for (let l = 0; l < L; l++) archs[a * L + l] = allowed[l]![rng.int(allowed[l]!.length)]!;
const out = new Float64Array(N);
const batch = time(() => scorer.scoreBatch(archs, out));
const perArch = time(() => {
  let s = 0;
  for (let a = 0; a < N; a++) s += scorer.score(archs, a * L);
  return s;
});
const batchRate = N / (batch.ms / 1000);
const oneRate = N / (perArch.ms / 1000);
console.log(`scoring: ${(batchRate / 1e6).toFixed(1)}M archs/s (scoreBatch, ${N.toLocaleString("en-US")} archs in ${batch.ms.toFixed(1)} ms), ${(oneRate / 1e6).toFixed(1)}M archs/s one by one (score())`);

// 3. search
const fixedProblem = problemFromStructure(structure, scores, { allowed });
const fullProblem = problemFromStructure(structure, scores);
{
  // The first call pays for JIT compilation, as a CLI run does.
  const t = performance.now();
  const best = exactTopK(fixedProblem, { maxMacs: LIMIT }, 1)[0]!;
  console.log(`exact search, fixed-depth space, top 1, <= 475M MACs, first (cold) call: ${(performance.now() - t).toFixed(1)} ms; best score ${best.score.toFixed(4)}`);
}
for (const [name, problem] of [["fixed-depth", fixedProblem], ["full", fullProblem]] as const) {
  for (const top of [1, 10]) {
    const stats = { nodes: 0 };
    const r = time(() => exactTopK(problem, { maxMacs: LIMIT }, top, stats));
    const best = r.result[0]!;
    console.log(`exact search, ${name} space, top ${top}, <= 475M MACs: ${r.ms.toFixed(1)} ms (${stats.nodes.toLocaleString("en-US")} nodes); best score ${best.score.toFixed(4)}, ${(best.macs / 1e6).toFixed(1)}M MACs, arch ${best.arch.join(",")}`);
  }
}
const evo = time(() => evolutionSearch(fixedProblem, { maxMacs: LIMIT }, 1, 0), 3);
const exact1 = exactTopK(fixedProblem, { maxMacs: LIMIT }, 1)[0]!;
console.log(`evolution (paper defaults, seed 0), fixed-depth space: ${evo.ms.toFixed(1)} ms; best score ${evo.result[0]!.score.toFixed(4)} vs exact ${exact1.score.toFixed(4)} (gap ${(exact1.score - evo.result[0]!.score).toFixed(4)})`);

// peer
if (!process.argv.includes("--no-peer")) {
  const peer = join(REPO_DIR, "scripts/bench-score-peer.py");
  if (!existsSync(peer)) console.log("peer: scripts/bench-score-peer.py not found");
  else {
    try {
      const text = execFileSync("/usr/bin/python3", [peer, "--layers", String(L), "--archs", String(Math.min(N, 300_000))], { encoding: "utf8" });
      const peerRates = JSON.parse(text.trim().split("\n").pop()!) as { python: number; numpy: number };
      console.log(`peer (Python, as the BN-NAS code scores): ${(peerRates.python / 1e6).toFixed(2)}M archs/s -> bnnas scoreBatch is ${(batchRate / peerRates.python).toFixed(0)}x faster`);
      console.log(`peer (NumPy fancy indexing): ${(peerRates.numpy / 1e6).toFixed(2)}M archs/s -> bnnas scoreBatch is ${(batchRate / peerRates.numpy).toFixed(1)}x as fast`);
    } catch (e) {
      console.log(`peer: could not run /usr/bin/python3 ${peer}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
}
