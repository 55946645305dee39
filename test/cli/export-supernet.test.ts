import { describe, expect, test } from "vitest";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readModel } from "../../src/model/model-io.js";
import { readManifest } from "../../src/supernet/manifest.js";
import { tempDir } from "../supernet/oracle.js";
import { runCli } from "./run-cli.js";

describe("bnnas export-supernet", () => {
  test("writes a supernet with a manifest; same seed -> same bytes; --json summary", async () => {
    const dir = tempDir();
    const a = await runCli(["export-supernet", "--space", "fmnist-small", "--seed", "4", "-o", join(dir, "a.onnx")]);
    expect(a.code, a.err).toBe(0);
    expect(a.out).toMatch(/^wrote .*a\.onnx: space 'fmnist-small', 6 choice layers, 39 candidate ops, [\d,]+ parameters, [\d.]+ MB, seed 4\n$/);
    const b = await runCli(["export-supernet", "--space", "fmnist-small", "--seed", "4", "-o", join(dir, "b.onnx"), "--json"]);
    expect(b.code, b.err).toBe(0);
    const summary = JSON.parse(b.out);
    expect(summary).toMatchObject({ space: "fmnist-small", seed: 4, unbiased: false, layers: 6, candidates: 39 });
    expect(readFileSync(join(dir, "a.onnx")).equals(readFileSync(join(dir, "b.onnx")))).toBe(true);
    const m = readManifest(readModel(join(dir, "a.onnx")), "a.onnx")!;
    expect(m.seed).toBe(4);
  });

  test("--unbiased and --external-data; a space file", async () => {
    const dir = tempDir();
    const spaceFile = join(import.meta.dirname, "../../models/fmnist-small.json");
    const r = await runCli(["export-supernet", "--space", spaceFile, "--unbiased", "--external-data", "-o", join(dir, "u.onnx")]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\(\+ .*u\.onnx\.data\).*unbiased/);
    expect(statSync(join(dir, "u.onnx.data")).size).toBeGreaterThan(1e6);
    expect(readManifest(readModel(join(dir, "u.onnx")), "u.onnx")!.unbiased).toBe(true);
  });

  test.each([
    [["--space", "cifar", "-o", "x.onnx"], 1, /^bnnas: error: unknown space 'cifar': use a built-in \(fmnist-small, bnnas-mbv2\) or the path of a space JSON file\n$/],
    [["--space", "fmnist-small", "--seed", "-3", "-o", "x.onnx"], 2, /--seed takes a whole number from 0 to 4294967295, not '-3'/],
    [["--space", "fmnist-small"], 2, /required option '-o, --output <file>' not specified/],
    [["--space", "/nonexistent/space.json", "-o", "x.onnx"], 1, /^bnnas: error: \/nonexistent\/space.json: no such file\n$/],
  ])("bad input %j -> exit %i, one clear line", async (args, code, expected) => {
    const r = await runCli(["export-supernet", ...args]);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(expected);
    expect(r.err).not.toMatch(/\n.+\n/); // one line, no stack trace
  });

  test("a malformed space file: one line with the file and the JSON path", async () => {
    const dir = tempDir();
    const file = join(dir, "bad.json");
    const spec = JSON.parse(readFileSync(join(import.meta.dirname, "../../models/fmnist-small.json"), "utf8"));
    spec.layers[3].candidates = ["x"];
    writeFileSync(file, JSON.stringify(spec));
    const r = await runCli(["export-supernet", "--space", file, "-o", join(dir, "x.onnx")]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`bnnas: error: ${file}: layers[3].candidates: unknown field (expected one of: label, in, out, stride, allowed)\n`);
    expect(readdirSync(dir)).toEqual(["bad.json"]);
  });

  test("unwritable output: clear error, no partial file", async () => {
    const dir = tempDir();
    const r = await runCli(["export-supernet", "--space", "fmnist-small", "-o", join(dir, "no", "x.onnx")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\nbnnas: error: cannot write .*x\.onnx: directory .* does not exist\n$/);
    expect(existsSync(join(dir, "no"))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
