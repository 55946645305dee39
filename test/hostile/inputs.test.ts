/**
 * Hostile non-ONNX inputs (issue 6 item 2): IDX datasets, architecture strings and space files.
 * Each must give a clear error from the module and, through the CLI, one `bnnas: error:` line
 * naming the file, option or layer, and a non-zero exit.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { gzipSync, gunzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeIdx, readIdx } from "../../src/data/idx.js";
import { loadDataset } from "../../src/data/dataset.js";
import { parseArch } from "../../src/structure/arch.js";
import { validateSpace } from "../../src/space/validate.js";
import { builtinSpace } from "../../src/space/builtins.js";
import { spaceStructure } from "../../src/supernet/export.js";
import { ArchError, InputFileError, SpaceError } from "../../src/errors.js";
import { runCli as run } from "../cli/run-cli.js";
import { SUBSET_DIR as SUBSET } from "../fixtures/paths.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-hostile-"));


/** One `bnnas: error:` line containing every `mention`, non-zero exit, no stack. */
function expectOneLineError(r: { code: number; err: string }, ...mentions: string[]) {
  expect(r.code).not.toBe(0);
  expect(r.code).not.toBe(70);
  const lines = r.err.split("\n").filter((l) => l.trim());
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(/^bnnas: error: /);
  expect(lines[0]!.length).toBeLessThan(600);
  for (const m of mentions) expect(lines[0]).toContain(m);
}

describe("IDX files", () => {
  const images = (n: number) => encodeIdx([n, 28, 28], new Uint8Array(n * 784).fill(7));
  const labels = (n: number) => encodeIdx([n], new Uint8Array(n).fill(1));
  const cases: Record<string, { img: Uint8Array; lab: Uint8Array; say: RegExp; bad: "images" | "labels" }> = {
    "truncated data": { img: images(4).slice(0, 16 + 784 * 3 + 5), lab: labels(4), say: /truncated/, bad: "images" },
    "truncated header": { img: images(4).slice(0, 9), lab: labels(4), say: /truncated inside its header/, bad: "images" },
    "wrong magic": { img: Uint8Array.from([0x50, 0x4b, 3, 4, ...images(4).slice(4)]), lab: labels(4), say: /not an IDX file/, bad: "images" },
    "wrong type byte": { img: Uint8Array.from([0, 0, 0x0d, 3, ...images(4).slice(4)]), lab: labels(4), say: /data type 0xd/, bad: "images" },
    "labels file with image dims": { img: images(4), lab: images(4), say: /3 dimensions, expected 1/, bad: "labels" },
    "count larger than the data": { img: (() => { const b = images(4); b[7] = 9; return b; })(), lab: labels(4), say: /truncated: header says \[9 x 28 x 28\]/, bad: "images" },
    "extra bytes after the data": { img: new Uint8Array([...images(4), 1, 2, 3]), lab: labels(4), say: /3 bytes after/, bad: "images" },
    "images vs labels mismatch": { img: images(4), lab: labels(5), say: /5 labels but .* has 4 images/, bad: "labels" },
    "absurd dims": { img: Uint8Array.from([0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 28]), lab: labels(4), say: /more than bnnas reads/, bad: "images" },
    "truncated gzip": { img: gzipSync(images(4)).subarray(0, 40), lab: labels(4), say: /truncated or corrupt gzip/, bad: "images" },
  };
  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: the module and the CLI name the file`, async () => {
      const d = join(dir, `idx-${name.replace(/\W+/g, "-")}`);
      mkdirSync(d);
      writeFileSync(join(d, "t10k-images-idx3-ubyte"), c.img);
      writeFileSync(join(d, "t10k-labels-idx1-ubyte"), c.lab);
      writeFileSync(join(d, "train-images-idx3-ubyte"), c.img);
      writeFileSync(join(d, "train-labels-idx1-ubyte"), c.lab);
      const file = join(d, c.bad === "images" ? "t10k-images-idx3-ubyte" : "t10k-labels-idx1-ubyte");
      let err: unknown;
      try {
        loadDataset(d, "test");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputFileError);
      expect((err as Error).message).toMatch(c.say);
      expect((err as InputFileError).file).toBe(file);
      // Through the CLI: train reads the train split of --data.
      const r = await run(["train", supernet, "-o", join(d, "out.onnx"), "--data", d, "--steps", "1", "--quiet"]);
      expectOneLineError(r, join(d, c.bad === "images" ? "train-images-idx3-ubyte" : "train-labels-idx1-ubyte"));
      expect(existsSync(join(d, "out.onnx"))).toBe(false);
    });
  }
  it("the shipped subset still reads (the checks are not too strict)", () => {
    const a = readIdx(join(SUBSET, "t10k-labels-idx1-ubyte.gz"), 1);
    expect(a.dims[0]).toBe(gunzipSync(readFileSync(join(SUBSET, "t10k-labels-idx1-ubyte.gz"))).length - 8);
  });
});

let supernet: string;
beforeAll(async () => {
  supernet = join(dir, "fm.onnx");
  expect((await run(["export-supernet", "--space", "fmnist-small", "-o", supernet])).code).toBe(0);
});

describe("architecture strings", () => {
  const structure = spaceStructure(builtinSpace("fmnist-small"));
  const junk: Record<string, RegExp> = {
    "1,,2,3,4,5": /layer 1.*'' is not a whole number/,
    "1;2;3;4;5;6": /has 1 value/,
    "1e3,0,0,0,0,0": /layer 0.*'1e3' is not a whole number/,
    " 0x1,0,0,0,0,0": /'0x1' is not a whole number/,
    "١,0,0,0,0,0": /'١' is not a whole number/,
    "１,0,0,0,0,0": /is not a whole number/,
    "-3,0,0,0,0,0": /layer 0.*-3 is not a candidate/,
    "0.5,0,0,0,0,0": /'0.5' is not a whole number/,
    "99999999999999999999,0,0,0,0,0": /out of range/,
    "NaN,0,0,0,0,0": /'NaN' is not a whole number/,
    "": /has 0 values/,
    "0,0,0,0,0,0,0": /has 7 values/,
    [`${"0,".repeat(100000)}0`]: /has 100001 values/,
  };
  for (const [text, say] of Object.entries(junk)) {
    it(`'${text.slice(0, 30)}${text.length > 30 ? "..." : ""}': an ArchError naming the layer`, async () => {
      expect(() => parseArch(text, structure)).toThrow(ArchError);
      expect(() => parseArch(text, structure)).toThrow(say);
      const r = await run(["flops", "--space", "fmnist-small", "--arch", text]);
      expectOneLineError(r, "architecture");
      expect(r.code).toBe(2);
    });
  }
  it("the same junk through a supernet file (score-onnx, extract-subnet)", async () => {
    expectOneLineError(await run(["score-onnx", supernet, "--arch", "1,,2"]), "architecture '1,,2'");
    const out = join(dir, "sub.onnx");
    expectOneLineError(await run(["extract-subnet", supernet, "--arch", "1e3,0,0,0,0,0", "-o", out]), "'1e3' is not a whole number");
    expect(existsSync(out)).toBe(false);
  });
});

describe("space files", () => {
  const base = () => JSON.parse(readFileSync(join(import.meta.dirname, "../../models/fmnist-small.json"), "utf8"));
  const cases: Record<string, { edit: (s: any) => void; path: string; say: RegExp }> = {
    "channels 1e12": { edit: (s) => (s.layers[0].out = 1e12), path: "layers[0].out", say: /must be from 1 to 16384, not 1000000000000/ },
    "negative channels": { edit: (s) => (s.stem[0].out = -16), path: "stem[0].out", say: /not -16/ },
    "input 0": { edit: (s) => (s.input.shape[1] = 0), path: "input.shape[1]", say: /must be from 1/ },
    "stride 0": { edit: (s) => (s.layers[1].stride = 0), path: "layers[1].stride", say: /must be from 1 to 4, not 0/ },
    "huge stride": { edit: (s) => (s.layers[1].stride = 2 ** 40), path: "layers[1].stride", say: /not 1099511627776/ },
    "float channels": { edit: (s) => (s.layers[0].out = 24.5), path: "layers[0].out", say: /whole number/ },
    "string channels": { edit: (s) => (s.layers[0].out = "24"), path: "layers[0].out", say: /not the string "24"/ },
    "unknown op": { edit: (s) => (s.candidates[0].op = { type: "transformer", k: 3 }), path: "candidates[0].op", say: /transformer/ },
    "op of the wrong type": { edit: (s) => (s.candidates[0].op = 42), path: "candidates[0].op", say: /./ },
    "kernel 0": { edit: (s) => (s.candidates[0].op.k = 0), path: "candidates[0].op", say: /./ },
    "classes negative": { edit: (s) => (s.classes = -10), path: "classes", say: /not -10/ },
    "layers not an array": { edit: (s) => (s.layers = { 0: 1 }), path: "layers", say: /must be an array/ },
    "unknown allowed candidate": { edit: (s) => (s.layers[0].allowed = ["mb_k9_e9"]), path: "layers[0].allowed[0]", say: /unknown candidate 'mb_k9_e9'/ },
    "NaN std": { edit: (s) => (s.input.normalize.std = [null]), path: "input.normalize.std[0]", say: /finite number/ },
    "channel chain broken": { edit: (s) => (s.layers[1].in = 99), path: "layers[1].in", say: /is 99, but layers\[0\] outputs 24/ },
  };
  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: a SpaceError at ${c.path}, and one CLI line naming file and path`, async () => {
      const spec = base();
      c.edit(spec);
      let err: unknown;
      try {
        validateSpace(spec, "space.json");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SpaceError);
      expect((err as SpaceError).path.startsWith(c.path)).toBe(true);
      expect((err as Error).message).toMatch(c.say);
      const file = join(dir, `space-${name.replace(/\W+/g, "-")}.json`);
      writeFileSync(file, JSON.stringify(spec));
      expectOneLineError(await run(["flops", "--space", file, "--arch", "0,0,0,0,0,0"]), file, c.path);
      const out = join(dir, `${name.replace(/\W+/g, "-")}.onnx`);
      expectOneLineError(await run(["export-supernet", "--space", file, "-o", out]), file, c.path);
      expect(existsSync(out)).toBe(false);
    });
  }
  it("not JSON at all, and a huge file of junk", async () => {
    const file = join(dir, "junk.json");
    writeFileSync(file, "{\"name\": ");
    expectOneLineError(await run(["flops", "--space", file, "--arch", "0"]), file, "not valid JSON");
    writeFileSync(file, "[".repeat(1_000_000));
    expectOneLineError(await run(["flops", "--space", file, "--arch", "0"]), file);
  });
});
