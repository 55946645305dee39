import { describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSupernet } from "../../src/supernet/export.js";
import { builtinSpace } from "../../src/space/builtins.js";
import { writeModel } from "../../src/model/model-io.js";
import { openSupernet, extractWithManifest } from "../../src/extract/from-file.js";
import { oneHotMaskFeeds } from "../../src/extract/masks.js";
import { nodeReads } from "../../src/extract/prune.js";
import { Session } from "../../src/runtime/ort.js";
import type { Tensor } from "../../src/onnx/tensor.js";
import { onnxCheckerProblems } from "./onnx-checker.js";
import { setTrainingRecord } from "../../src/supernet/manifest.js";
import { readSubnetManifest } from "../../src/supernet/subnet-manifest.js";
import { decodeModel, encodeModel } from "../../src/model/model-io.js";
import type { ModelProto } from "../../src/onnx/proto.js";

const structuredCloneModel = (m: ModelProto) => decodeModel(encodeModel(m));

// A bnnas-exported fmnist-small supernet, written to disk and opened like a user's file.
const dir = mkdtempSync(join(tmpdir(), "bnnas-extract-fmnist-"));
const file = join(dir, "fmnist-small.onnx");
writeModel(file, buildSupernet(builtinSpace("fmnist-small"), { seed: 3 }).model);
const src = openSupernet(file);
const x: Tensor = { dims: [4, 1, 28, 28], data: Float32Array.from({ length: 4 * 784 }, (_, i) => Math.sin(i * 0.37) * 1.5) };

describe("extract-subnet on a bnnas fmnist-small supernet", () => {
  it("matches the supernet with one-hot masks, records the space's MACs/params, passes the checker", async () => {
    const superSession = await Session.create(src.model, { threads: 2 });
    // MACs/params as the fmnist-small space's specification gives them (see models/README.md)
    const table: [number[], number | undefined, number | undefined][] = [
      [[0, 0, 0, 0, 0, 0], 2_420_968, 80_898],
      [[5, 5, 5, 5, 5, 5], 6_838_672, 216_090],
      [[5, 5, 6, 5, 6, 6], 3_600_592, 54_298],
      [[3, 1, 6, 3, 6, 0], undefined, undefined],
    ];
    const files: string[] = [];
    for (const [arch, macs, params] of table) {
      const want = (await superSession.run({ input: x, ...oneHotMaskFeeds(src.structure, arch, src.model.graph!) }))[src.structure.output]!.data as Float32Array;
      for (const foldBn of [false, true]) {
        const r = extractWithManifest(src, arch, { foldBn });
        const g = r.model.graph!;
        expect(g.input.map((i) => i.name)).toEqual([src.structure.input.name]);
        const read = new Set(g.node.flatMap(nodeReads));
        expect(g.initializer.filter((t) => !read.has(t.name))).toEqual([]);
        if (macs !== undefined) expect([r.manifest.macs, r.manifest.params]).toEqual([macs, params]);
        expect(r.manifest.space).toBe("fmnist-small");
        expect(r.manifest.input.normalize).toEqual({ mean: [0.286], std: [0.353] });
        const s = await Session.create(r.model, { threads: 2 });
        const got = (await s.run({ input: x }))[src.structure.output]!.data as Float32Array;
        await s.release();
        let diff = 0;
        for (let i = 0; i < got.length; i++) diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
        expect(diff, `arch ${arch} foldBn ${foldBn}`).toBeLessThanOrEqual(1e-5);
        const f = join(dir, `sub-${arch.join("")}-${foldBn}.onnx`);
        writeModel(f, r.model);
        files.push(f);
      }
    }
    await superSession.release();
    expect(onnxCheckerProblems(files)).toBe("");
  });

  it("carries the supernet's training record and source into the subnet manifest", () => {
    const trained = { ...src, model: structuredCloneModel(src.model) };
    setTrainingRecord(trained.model, { steps: 120, lr: 0.5, indicator: "last-bn" });
    const r = extractWithManifest(trained, [1, 2, 6, 0, 6, 5]);
    expect(r.manifest.training).toEqual({ steps: 120, lr: 0.5, indicator: "last-bn" });
    expect(r.manifest.source.file).toBe("fmnist-small.onnx");
    expect(r.manifest.candidates).toEqual(["mb_k3_e6", "mb_k5_e3", "skip", "mb_k3_e3", "skip", "mb_k7_e6"]);
    expect(readSubnetManifest(r.model)).toEqual(r.manifest);
    expect(extractWithManifest(src, [1, 2, 6, 0, 6, 5]).manifest.training).toBeUndefined();
  });
});
