import { describe, expect, it } from "vitest";
import { builtinSpace } from "../../src/space/builtins.js";
import { buildSupernet } from "../../src/supernet/export.js";
import { supernetOf } from "../../src/supernet/load.js";
import { extractSubnet } from "../../src/extract/subnet.js";
import { Session } from "../../src/runtime/ort.js";
import { Random } from "../../src/util/random.js";

/*
 * Session options that change how onnxruntime schedules a run, never what it computes: a subnet
 * run with pinned worker threads (latency tables) or sleeping workers (the training engine) gives
 * the logits of a plain session.
 */
describe("Session runtime options", () => {
  it("pinThreads and noSpin, at 2 threads, compute the same logits as a plain session", async () => {
    const built = buildSupernet(builtinSpace("fmnist-small"), { seed: 0 });
    const loaded = supernetOf({ model: built.model, sha256: "0".repeat(64) }, "fmnist-small.onnx");
    const { model } = extractSubnet(loaded.model, loaded.structure, [0, 1, 6, 2, 6, 3], { foldBn: true, file: "s" });
    const rng = new Random(3);
    const data = Float32Array.from({ length: 4 * 28 * 28 }, () => rng.uniform() * 2 - 1);
    const feed = { [loaded.structure.input.name]: { dims: [4, 1, 28, 28], data } };
    const logits = async (options: Parameters<typeof Session.create>[1]) => {
      const s = await Session.create(model, options);
      try {
        return Array.from(Object.values(await s.run(feed))[0]!.data as Float32Array);
      } finally {
        await s.release();
      }
    };
    const plain = await logits({ threads: 2 });
    expect(plain).toHaveLength(40);
    for (const options of [{ threads: 2, pinThreads: true }, { threads: 2, noSpin: true, pinThreads: true }]) {
      const got = await logits(options);
      got.forEach((x, i) => expect(x).toBeCloseTo(plain[i]!, 5));
    }
  });
});
