/**
 * The zero-cost proxies against a PyTorch oracle (test/fixtures/proxies/proxy_oracle.py): the
 * same fmnist-small paths, weights loaded from the same subnet file, the same minibatch; each
 * proxy computed the way the proxies' papers' code computes it. Plus NASWOT's kernel and log-det
 * on a case small enough to do by hand.
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSpace } from "../../src/space/builtins.js";
import { buildSupernet } from "../../src/supernet/export.js";
import { structureFromManifest } from "../../src/supernet/manifest.js";
import { extractSubnet } from "../../src/extract/subnet.js";
import { writeModel } from "../../src/model/model-io.js";
import { loadDataset } from "../../src/data/dataset.js";
import { probeBatch } from "../../src/proxy/probe-batch.js";
import { naswotScore, proxyScore, type ProxyName } from "../../src/proxy/zero-cost.js";
import { logAbsDet } from "../../src/util/logdet.js";
import { FIXTURES_DIR } from "../fixtures/paths.js";

const PROXIES: ProxyName[] = ["grad_norm", "snip", "synflow", "naswot"];

describe("zero-cost proxies", () => {
  const { model: supernet, manifest } = buildSupernet(loadSpace("fmnist-small"), { seed: 3 });
  const structure = structureFromManifest(manifest);
  const n = 16;
  const batch = probeBatch(loadDataset(undefined, "train"), manifest.input.normalize, n, 0);
  const dir = mkdtempSync(join(tmpdir(), "bnnas-proxy-"));
  const batchFile = join(dir, "batch.bin");
  writeFileSync(batchFile, Buffer.concat([Buffer.from(batch.x.data.buffer, batch.x.data.byteOffset, batch.x.data.byteLength), Buffer.from(batch.labels.buffer)]));

  for (const arch of [[1, 3, 6, 0, 6, 2], [5, 0, 2, 4, 1, 6]]) {
    it(`agree with PyTorch on ${arch.join(",")}`, async () => {
      const { model } = extractSubnet(supernet, structure, arch);
      const file = join(dir, `${arch.join("_")}.onnx`);
      writeModel(file, model);
      const oracle = JSON.parse(execFileSync("/usr/bin/python3", [join(FIXTURES_DIR, "proxies", "proxy_oracle.py"), file, arch.join(","), batchFile, String(n)], { encoding: "utf8" })) as Record<ProxyName, number>;
      for (const name of PROXIES) {
        const got = await proxyScore(name, model, { batch, classes: 10, threads: 1 });
        // float32 sums over ~100k products against float64 (synflow, naswot: logs, absolute)
        const tol = name === "synflow" || name === "naswot" ? 1e-3 : 1e-4 * Math.abs(oracle[name]);
        expect(Math.abs(got - oracle[name]), `${name}: bnnas ${got}, PyTorch ${oracle[name]}`).toBeLessThan(tol);
      }
    });
  }

  it("NASWOT: K counts agreeing units, its log-det as numpy's slogdet", () => {
    // 3 images, 4 units: codes 1100, 1010, 0011 -> K = [[4,2,0],[2,4,2],[0,2,4]], det = 32
    const act = Float32Array.from([1, 1, -1, 0, 2, 0, 3, -2, 0, -1, 5, 4]);
    expect(naswotScore([act], 3)).toBeCloseTo(Math.log(32), 10);
    expect(logAbsDet(Float64Array.from([0, 2, 3, 1]), 2)).toBeCloseTo(Math.log(6), 12);
    expect(logAbsDet(Float64Array.from([1, 2, 2, 4]), 2)).toBe(-Infinity);
  });
});
