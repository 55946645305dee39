/**
 * oneshot (SPOS's one-shot accuracy) against bnnas eval, which evaluates one supernet path after the
 * same BatchNorm recalibration (itself checked against PyTorch in test/runtime): without a
 * validation split in the training record, a path's score is exactly `eval --arch A
 * --recalibrate-bn 8 --limit N`'s accuracy, with a note; with one, it is scored on those held-out
 * images only.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../cli/run-cli.js";
import { SUBSET_DIR } from "../fixtures/paths.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-oneshot-"));
const plain = join(dir, "spos.onnx");
const heldOut = join(dir, "spos-holdout.onnx");
const archs = [[0, 1, 6, 3, 6, 2], [5, 4, 2, 1, 0, 6], [2, 2, 2, 2, 2, 2]];
const archsFile = join(dir, "archs.txt");

beforeAll(async () => {
  writeFileSync(archsFile, archs.map((a) => a.join(",")).join("\n") + "\n");
  const fresh = join(dir, "fresh.onnx");
  expect((await runCli(["export-supernet", "--space", "fmnist-small", "-o", fresh])).code).toBe(0);
  const common = ["--data", SUBSET_DIR, "--weights", "all", "--steps", "12", "--batch", "32", "--threads", "2", "--quiet"];
  for (const [out, extra] of [[plain, []], [heldOut, ["--holdout", "200"]]] as const) {
    const t = await runCli(["train", fresh, "-o", out, ...common, ...extra]);
    expect(t.code, t.err).toBe(0);
  }
}, 120_000);

const scores = async (file: string, images: string) => {
  const r = await runCli(["score-onnx", file, "--indicator", "oneshot", "--archs", archsFile, "--data", SUBSET_DIR, "--oneshot-images", images, "--threads", "2", "--json"]);
  expect(r.code, r.err).toBe(0);
  return { scores: (JSON.parse(r.out).archs as { arch: number[]; score: number }[]).map((a) => a.score), err: r.err };
};

describe("oneshot indicator", () => {
  it("without a validation split: eval's accuracy after recalibration, on the test split, with a note", async () => {
    const got = await scores(plain, "300");
    expect(got.err).toMatch(/records no validation split \(train it with --holdout N\): oneshot scores on the test split's first 300 images/);
    for (const [i, arch] of archs.entries()) {
      const e = await runCli(["eval", plain, "--arch", arch.join(","), "--recalibrate-bn", "8", "--limit", "300", "--data", SUBSET_DIR, "--threads", "2", "--json"]);
      expect(e.code, e.err).toBe(0);
      expect(got.scores[i]).toBe(JSON.parse(e.out).accuracy);
    }
  }, 120_000);

  it("with a validation split: only its held-out images, no note", async () => {
    const got = await scores(heldOut, "5000"); // more than the 200 held out: all 200 are used
    expect(got.err).not.toMatch(/validation split/);
    for (const s of got.scores) expect(Math.abs(s * 200 - Math.round(s * 200))).toBeLessThan(1e-9);
  }, 120_000);

  it("scores whole architectures: exact search is refused, saying why", async () => {
    const exact = await runCli(["score-onnx", plain, "--indicator", "oneshot", "--search", "exact"]);
    expect(exact.code).not.toBe(0);
    expect(exact.err).toMatch(/oneshot/);
  });
});
