/**
 * Latency-table validation, the README's "Latency" numbers.
 *
 *   npm run bench:latency [-- --batches 1,128 --threads 2 --archs 50 --repeats 30 --validate-repeats 20 --space fmnist-small --statistic median|min]
 *
 * Per batch: exports the space's supernet, builds a latency table (bnnas latency: every block,
 * interleaved warm medians, per-run overhead, then 60 calibration subnets timed whole, to which
 * each candidate's in-network cost is fitted),
 * then validates it on N other random subnets (bnnas latency --validate), each extracted with
 * BN folded and timed whole the same way. Prints the fraction within +-10%, Kendall tau, the
 * error distribution, the machine's load average during each phase, and the targets. Nothing is
 * asserted: on a shared machine the numbers move with the load, which is printed beside them.
 */
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadSpace } from "../src/space/builtins.js";
import { exportSupernet } from "../src/supernet/export.js";
import { loadSupernet } from "../src/supernet/load.js";
import { buildLatencyTable } from "../src/latency/build.js";
import { validateLatencyTable } from "../src/latency/validate.js";
import { arg } from "./args.js";

const batches = arg("batches", "1,128").split(",").map(Number);
const threads = Number(arg("threads", "2"));
const archs = Number(arg("archs", "50"));
const repeats = Number(arg("repeats", "30"));
const validateRepeats = Number(arg("validate-repeats", "20"));
const space = arg("space", "fmnist-small");
const statistic = arg("statistic", "median") as "median" | "min";
const sampleMs = Number(arg("sample-ms", "2"));

const dir = mkdtempSync(join(tmpdir(), "bnnas-bench-latency-"));
const file = join(dir, "supernet.onnx");
exportSupernet(loadSpace(space), file, { seed: 0 });
const loaded = loadSupernet(file);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
/** The fit's cross-validated share of calibration subnets within +-10%. */
const cv = (errors: number[] | undefined) => (errors ? `, fit cross-validated ${pct(errors.filter((e) => Math.abs(e) <= 0.1).length / errors.length)} within +-10%` : "");

for (const batch of batches) {
  const t0 = performance.now();
  const table = await buildLatencyTable(loaded, { device: "cpu", threads, batch, repeats, warmup: 5, calibrate: Number(arg("calibrate", "60")), seed: 0, statistic, sampleMs });
  const built = (performance.now() - t0) / 1000;
  const v = await validateLatencyTable(table, loaded, archs, { repeats: validateRepeats, warmup: 5, seed: 1 });
  const e = v.error;
  console.log(
    `${space} batch ${batch}, ${threads} threads, ${statistic} of ${sampleMs} ms samples: table ${built.toFixed(0)} s (load ${table.loadavg.map((x) => x.toFixed(1)).join("->")}, factor ${table.correction.factor.toFixed(3)}${cv(table.correction.fit?.cvErrors)}); ` +
      `validation of ${v.n} subnets ${v.seconds.toFixed(0)} s (load ${v.loadavg.map((x) => x.toFixed(1)).join("->")})`,
  );
  console.log(
    `  within +-10%: ${pct(v.within10)} (target >= 90%)  Kendall tau: ${v.kendallTau?.toFixed(3) ?? "undefined"} (target >= 0.8)  ` +
      `error p10 ${pct(e.p10)} median ${pct(e.median)} p90 ${pct(e.p90)} [min ${pct(e.min)}, max ${pct(e.max)}], mean |error| ${pct(e.meanAbs)}`,
  );
  const ms = v.rows.map((r) => r.measured).sort((a, b) => a - b);
  console.log(`  measured subnets: ${ms[0]!.toFixed(3)}-${ms[ms.length - 1]!.toFixed(3)} ms (fastest-slowest of the ${v.n})`);
}
