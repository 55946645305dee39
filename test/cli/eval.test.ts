import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeIdx } from "../../src/data/idx.js";
import { loadDataset } from "../../src/data/dataset.js";
import { makeBatch } from "../../src/data/batches.js";
import { readModel } from "../../src/model/model-io.js";
import { Session } from "../../src/runtime/ort.js";
import { runCli as run } from "./run-cli.js";

const MATRIX = "test/fixtures/extract/matrix.onnx";
const dir = mkdtempSync(join(tmpdir(), "bnnas-cli-eval-"));
const data = join(dir, "data");
mkdirSync(data);

/** A small Fashion-MNIST-shaped IDX set (deterministic pseudo-random pixels and labels). */
function writeSplit(prefix: string, count: number, seed: number): void {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
  writeFileSync(join(data, `${prefix}-images-idx3-ubyte`), encodeIdx([count, 28, 28], Uint8Array.from({ length: count * 784 }, next)));
  writeFileSync(join(data, `${prefix}-labels-idx1-ubyte`), encodeIdx([count], Uint8Array.from({ length: count }, () => next() % 10)));
}
writeSplit("train", 96, 1);
writeSplit("t10k", 70, 2);


const norm = ["--mean", "0.2860", "--std", "0.3530"];

describe("bnnas eval", () => {
  it("reports the top-1 accuracy of a subnet exactly, and throughput, as JSON", async () => {
    const sub = join(dir, "sub.onnx");
    expect((await run(["extract-subnet", MATRIX, "--arch", "0,1,2", "-o", sub, ...norm])).code).toBe(0);
    // The subnet carries the normalisation given at extraction: no --mean/--std needed now.
    const r = await run(["eval", sub, "--data", data, "--batch", "16", "--threads", "1", "--json", "--quiet"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as { accuracy: number; images_per_s: number; images: number; correct: number };
    const test = loadDataset(data, "test");
    const { x, labels } = makeBatch(test, Uint32Array.from({ length: 70 }, (_, i) => i), { mean: [0.286], std: [0.353] });
    const s = await Session.create(readModel(sub), { threads: 1 });
    const logits = (await s.run({ image: x }))["scores"]!.data as Float32Array;
    let correct = 0;
    for (let i = 0; i < 70; i++) {
      const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
      if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
    }
    expect(j.images).toBe(70);
    expect(j.correct).toBe(correct);
    expect(j.accuracy).toBeCloseTo(correct / 70, 12);
    expect(j.images_per_s).toBeGreaterThan(0);
  });

  it("evaluates one supernet path (only that path runs), with BN recalibration", async () => {
    const sub = join(dir, "sub2.onnx");
    await run(["extract-subnet", MATRIX, "--arch", "3,2,3", "-o", sub, ...norm]);
    const viaSub = JSON.parse((await run(["eval", sub, "--data", data, "--json", "--quiet", "--threads", "1"])).out) as { accuracy: number };
    const viaPath = await run(["eval", MATRIX, "--arch", "3,2,3", "--data", data, "--json", "--quiet", "--threads", "1", ...norm]);
    expect(viaPath.code, viaPath.err).toBe(0);
    expect((JSON.parse(viaPath.out) as { accuracy: number }).accuracy).toBe(viaSub.accuracy);
    const recal = await run(["eval", MATRIX, "--arch", "3,2,3", "--data", data, "--recalibrate-bn", "2", "--recalibrate-batch", "32", "--json", "--threads", "1", ...norm]);
    expect(recal.code, recal.err).toBe(0);
    const rj = JSON.parse(recal.out) as { recalibrate_bn: { batches: number; batchnorms: number; rule: string }; accuracy: number };
    expect(rj.recalibrate_bn.batches).toBe(2);
    expect((rj.recalibrate_bn as unknown as { images: number }).images).toBe(64);
    expect(rj.recalibrate_bn.batchnorms).toBeGreaterThan(0);
    expect(rj.recalibrate_bn.rule).toMatch(/momentum=None/);
    expect(recal.err).toMatch(/recalibrate-bn 2\/2/);
    const human = await run(["eval", sub, "--data", data, "--quiet"]);
    expect(human.out).toMatch(/top-1 accuracy \d+\.\d\d% \(\d+\/70\)\n\s+\d+ images\/s/);
  });

  it("refuses the wrong kind of model and missing information clearly", async () => {
    const sub = join(dir, "sub3.onnx");
    await run(["extract-subnet", MATRIX, "--arch", "0,1,2", "-o", sub]);
    const cases: [string[], RegExp][] = [
      [["eval", MATRIX, "--data", data, ...norm], /is a supernet: pass --arch A/],
      [["eval", sub, "--arch", "0,1,2", "--data", data], /is already a subnet \(arch 0,1,2\): drop --arch/],
      [["eval", sub, "--data", data], /no bnnas manifest with the input normalisation: pass --mean and --std/],
      [["eval", MATRIX, "--arch", "0,3,2", "--data", data, ...norm], /layer 1: 3 is not a candidate/],
      [["eval", sub, "--data", join(dir, "nope"), ...norm], /no such directory/],
      [["eval", sub, "--data", data, "--mean", "0.2"], /--mean and --std go together/],
      [["eval", sub, "--data", data, "--batch", "0", ...norm], /--batch takes a whole number from 1/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.err, args.join(" ")).toMatch(message);
    }
    const folded = join(dir, "folded.onnx");
    await run(["extract-subnet", MATRIX, "--arch", "0,1,2", "-o", folded, "--fold-bn", ...norm]);
    expect((await run(["eval", folded, "--data", data, "--recalibrate-bn", "1"])).err).toMatch(/no BatchNormalization nodes to recalibrate/);
  });
});
