import { describe, expect, test } from "vitest";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../src/cli/index.js";
import { memoryIO } from "../../src/util/io.js";
import { readModel } from "../../src/model/model-io.js";
import { readManifest } from "../../src/supernet/manifest.js";
import { tempDir } from "../supernet/oracle.js";

describe("bnnas export-supernet", () => {
  test("writes a supernet with a manifest; same seed -> same bytes; --json summary", async () => {
    const dir = tempDir();
    const io = memoryIO();
    expect(await main(["export-supernet", "--space", "fmnist-small", "--seed", "4", "-o", join(dir, "a.onnx")], io)).toBe(0);
    expect(io.out.join("")).toMatch(/^wrote .*a\.onnx: space 'fmnist-small', 6 choice layers, 39 candidate ops, [\d,]+ parameters, [\d.]+ MB, seed 4\n$/);
    const io2 = memoryIO();
    expect(await main(["export-supernet", "--space", "fmnist-small", "--seed", "4", "-o", join(dir, "b.onnx"), "--json"], io2)).toBe(0);
    const summary = JSON.parse(io2.out.join(""));
    expect(summary).toMatchObject({ space: "fmnist-small", seed: 4, unbiased: false, layers: 6, candidates: 39 });
    expect(readFileSync(join(dir, "a.onnx")).equals(readFileSync(join(dir, "b.onnx")))).toBe(true);
    const m = readManifest(readModel(join(dir, "a.onnx")), "a.onnx")!;
    expect(m.seed).toBe(4);
  });

  test("--unbiased and --external-data; a space file", async () => {
    const dir = tempDir();
    const io = memoryIO();
    const spaceFile = join(import.meta.dirname, "../../models/fmnist-small.json");
    expect(await main(["export-supernet", "--space", spaceFile, "--unbiased", "--external-data", "-o", join(dir, "u.onnx")], io)).toBe(0);
    expect(io.out.join("")).toMatch(/\(\+ .*u\.onnx\.data\).*unbiased/);
    expect(statSync(join(dir, "u.onnx.data")).size).toBeGreaterThan(1e6);
    expect(readManifest(readModel(join(dir, "u.onnx")), "u.onnx")!.unbiased).toBe(true);
  });

  test.each([
    [["--space", "cifar", "-o", "x.onnx"], 1, /^bnnas: error: unknown space 'cifar': use a built-in \(fmnist-small, bnnas-mbv2\) or the path of a space JSON file\n$/],
    [["--space", "fmnist-small", "--seed", "-3", "-o", "x.onnx"], 2, /--seed takes a whole number from 0 to 4294967295, not '-3'/],
    [["--space", "fmnist-small"], 2, /required option '-o, --output <file>' not specified/],
    [["--space", "/nonexistent/space.json", "-o", "x.onnx"], 1, /^bnnas: error: \/nonexistent\/space.json: no such file\n$/],
  ])("bad input %j -> exit %i, one clear line", async (args, code, expected) => {
    const io = memoryIO();
    expect(await main(["export-supernet", ...args], io)).toBe(code);
    expect(io.err.join("")).toMatch(expected);
    expect(io.err.join("")).not.toMatch(/\n.+\n/); // one line, no stack trace
  });

  test("a malformed space file: one line with the file and the JSON path", async () => {
    const dir = tempDir();
    const file = join(dir, "bad.json");
    const spec = JSON.parse(readFileSync(join(import.meta.dirname, "../../models/fmnist-small.json"), "utf8"));
    spec.layers[3].candidates = ["x"];
    writeFileSync(file, JSON.stringify(spec));
    const io = memoryIO();
    expect(await main(["export-supernet", "--space", file, "-o", join(dir, "x.onnx")], io)).toBe(1);
    expect(io.err.join("")).toBe(`bnnas: error: ${file}: layers[3].candidates: unknown field (expected one of: label, in, out, stride, allowed)\n`);
    expect(readdirSync(dir)).toEqual(["bad.json"]);
  });

  test("unwritable output: clear error, no partial file", async () => {
    const dir = tempDir();
    const io = memoryIO();
    expect(await main(["export-supernet", "--space", "fmnist-small", "-o", join(dir, "no", "x.onnx")], io)).toBe(1);
    expect(io.err.join("")).toMatch(/\nbnnas: error: cannot write .*x\.onnx: directory .* does not exist\n$/);
    expect(existsSync(join(dir, "no"))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
