import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../../src/onnx/builder.js";
import { DataType } from "../../src/onnx/proto.js";
import { Session } from "../../src/runtime/ort.js";
import { emitSoftmaxCrossEntropy } from "../../src/autodiff/loss.js";
import { randn, rng } from "./harness.js";

/** Reference in double precision: PyTorch's cross_entropy with label_smoothing. */
function reference(logits: Float32Array, labels: number[], k: number, e: number): number {
  let total = 0;
  for (let n = 0; n < labels.length; n++) {
    const row = Array.from(logits.subarray(n * k, n * k + k));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    const logp = row.map((v) => v - lse);
    total += -(1 - e) * logp[labels[n]!]! - (e / k) * logp.reduce((s, v) => s + v, 0);
  }
  return total / labels.length;
}

describe("softmax cross-entropy with label smoothing", () => {
  for (const e of [0, 0.1]) {
    it(`loss matches the double-precision reference and d loss / d logits matches central differences (smoothing ${e})`, async () => {
      const r = rng(21);
      const n = 5, k = 4;
      const b = new GraphBuilder();
      b.input("logits", ["N", k]);
      b.input("labels", ["N"], DataType.INT64);
      const { loss, dlogits } = emitSoftmaxCrossEntropy(b, "logits", "labels", k, e);
      b.output(loss, []);
      b.output(dlogits);
      const session = await Session.create(b.build({ name: "loss" }), { threads: 1 });
      const logits = randn(n * k, r, 2);
      const labels = [0, 3, 1, 1, 2];
      const feeds = (l: Float32Array) => ({ logits: { dims: [n, k], data: l }, labels: { dims: [n], data: BigInt64Array.from(labels, BigInt) } });
      const out = await session.run(feeds(logits));
      const got = (out[loss]!.data as Float32Array)[0]!;
      expect(Math.abs(got - reference(logits, labels, k, e))).toBeLessThan(1e-5);
      const g = out[dlogits]!.data as Float32Array;
      const v = randn(n * k, r);
      const eps = 1e-3;
      const fd = (reference(logits.map((x, i) => x + eps * v[i]!), labels, k, e) - reference(logits.map((x, i) => x - eps * v[i]!), labels, k, e)) / (2 * eps);
      const dir = g.reduce((s, gi, i) => s + gi * v[i]!, 0);
      expect(Math.abs(dir - fd)).toBeLessThan(1e-2 * Math.abs(fd) + 1e-5);
      await session.release();
    });
  }
});
