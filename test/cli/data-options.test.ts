/** The data flags as a user meets them: one-line errors naming the file and the flag, --data-format, --strict. */
import { beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./run-cli.js";
import { cifarBytes, writeImage } from "../data/make-data.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-data-cli-"));
const supernet = join(dir, "fm.onnx");
const cache = join(dir, "cache");

beforeAll(async () => {
  expect((await runCli(["export-supernet", "--space", "fmnist-small", "-o", supernet])).code).toBe(0);
});

describe("data flags", () => {
  it("a CIFAR file of the wrong length: one line naming the file and the record size", async () => {
    const d = join(dir, "badcifar");
    mkdirSync(d);
    writeFileSync(join(d, "data_batch_1.bin"), cifarBytes(2, "cifar10").bytes.subarray(0, 5000));
    const r = await runCli(["train", supernet, "-o", join(dir, "x.onnx"), "--data", d, "--cache-dir", cache, "--steps", "1", "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/^bnnas: error: .*data_batch_1\.bin: is 5000 bytes, not a whole number of CIFAR-10 records of 3073 bytes/);
  });

  it("--data-format forces a format, and a folder with nothing readable names the flag", async () => {
    const d = join(dir, "empty");
    mkdirSync(d);
    writeFileSync(join(d, "x.txt"), "hi");
    const r = await runCli(["eval", supernet, "--arch", "0,0,0,0,0,0", "--data", d, "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/holds no data bnnas reads: .*; name the format with --data-format/);
    const forced = await runCli(["eval", supernet, "--arch", "0,0,0,0,0,0", "--data", d, "--data-format", "cifar10", "--quiet"]);
    expect(forced.err).toMatch(/has no CIFAR-10 test file \(expected test_batch\.bin/);
    const bad = await runCli(["eval", supernet, "--data-format", "csv"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--data-format must be one of idx, folder, cifar10, cifar100/);
  });

  it("an unreadable image is skipped with a note, or stops the run with --strict", async () => {
    const d = join(dir, "imgs");
    for (const split of ["train", "test"]) {
      for (const c of ["a", "b"]) {
        mkdirSync(join(d, split, c), { recursive: true });
        for (let i = 0; i < 4; i++) await writeImage(join(d, split, c, `${i}.png`), new Uint8Array(28 * 28).fill(c === "a" ? 30 : 220), 1, 28, 28);
      }
    }
    const broken = join(d, "test", "b", "3.png");
    writeFileSync(broken, readFileSync(broken).subarray(0, 40));
    const r = await runCli(["eval", supernet, "--arch", "0,0,0,0,0,0", "--data", d, "--cache-dir", cache, "--json", "--quiet"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ images: 7, classes: ["a", "b", "2", "3", "4", "5", "6", "7", "8", "9"] });
    const loud = await runCli(["eval", supernet, "--arch", "0,0,0,0,0,0", "--data", d, "--cache-dir", cache, "--json"]);
    expect(loud.err).toMatch(/skipped 1 unreadable image of 8 .*3\.png/);
    const strict = await runCli(["eval", supernet, "--arch", "0,0,0,0,0,0", "--data", d, "--cache-dir", cache, "--strict", "--quiet"]);
    expect(strict.code).toBe(1);
    expect(strict.err).toMatch(/3\.png: cannot be decoded .*drop --strict to skip unreadable images/);
  });
});
