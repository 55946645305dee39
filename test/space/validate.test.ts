import { describe, expect, test } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILTIN_SPACES, builtinSpace, loadSpace } from "../../src/space/builtins.js";
import { validateSpace } from "../../src/space/validate.js";
import { defineSpace, ops, candidate, layer } from "../../src/space/define.js";
import { InputFileError, SpaceError } from "../../src/errors.js";
import { tempDir } from "../supernet/oracle.js";

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const fm = () => clone(builtinSpace("fmnist-small")) as unknown as Record<string, any>;

function problem(mutate: (s: Record<string, any>) => void): string {
  const s = fm();
  mutate(s);
  try {
    validateSpace(s, "my-space.json");
  } catch (e) {
    expect(e).toBeInstanceOf(SpaceError);
    return (e as Error).message;
  }
  throw new Error("expected a SpaceError");
}

describe("built-in spaces", () => {
  test("fmnist-small is exactly the spec", () => {
    const s = builtinSpace("fmnist-small");
    expect(s.input).toEqual({ name: "input", shape: [1, 28, 28], normalize: { mean: [0.286], std: [0.353] } });
    expect(s.classes).toBe(10);
    expect(s.candidates.map((c) => c.name)).toEqual(["mb_k3_e3", "mb_k3_e6", "mb_k5_e3", "mb_k5_e6", "mb_k7_e3", "mb_k7_e6", "skip"]);
    expect(s.layers.map((l) => [l.in, l.out, l.stride])).toEqual([[16, 24, 1], [24, 32, 2], [32, 32, 1], [32, 64, 2], [64, 64, 1], [64, 64, 1]]);
    expect(s.layers.map((l) => l.allowed!.includes("skip"))).toEqual([false, false, true, false, true, true]);
    expect(s.stem).toEqual([{ op: { type: "conv", k: 3, act: "relu" }, out: 16, stride: 2 }]);
  });

  test("bnnas-mbv2 is exactly the spec", () => {
    const s = builtinSpace("bnnas-mbv2");
    expect(s.input.shape).toEqual([3, 224, 224]);
    expect(s.classes).toBe(1000);
    expect(s.layers.length).toBe(21);
    expect(s.layers.map((l) => l.out)).toEqual([32, 32, 32, 32, 56, 56, 56, 56, 112, 112, 112, 112, 128, 128, 128, 128, 256, 256, 256, 256, 432]);
    expect(s.layers.map((l) => l.stride)).toEqual([2, 1, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1]);
    expect(s.layers[0]!.in).toBe(24);
    expect(s.fixedDepth).toEqual([1, 5, 6, 9]);
    expect(s.stem).toEqual([
      { op: { type: "conv", k: 3, act: "relu6" }, out: 40, stride: 2 },
      { op: { type: "mbconv", k: 3, e: 1 }, out: 24, stride: 1 },
    ]);
    expect(s.head.ops).toEqual([{ op: { type: "conv", k: 1, act: "relu6" }, out: 1728, stride: 1 }]);
  });

  test("validation is idempotent on the normalised spec", () => {
    for (const name of BUILTIN_SPACES) expect(validateSpace(clone(builtinSpace(name)))).toEqual(builtinSpace(name));
  });

  test("defaults: labels, input name, allowed = every candidate the shape permits", () => {
    const s = fm();
    for (const l of s.layers) {
      delete l.allowed;
      delete l.label;
    }
    delete s.input.name;
    expect(validateSpace(s)).toEqual(builtinSpace("fmnist-small"));
  });

  test("unknown space name lists the built-ins; a file path is read", () => {
    expect(() => loadSpace("imagenet-big")).toThrow(SpaceError);
    expect(() => loadSpace("imagenet-big")).toThrow(/unknown space 'imagenet-big'.*fmnist-small, bnnas-mbv2/);
    const dir = tempDir();
    const file = join(dir, "s.json");
    writeFileSync(file, JSON.stringify(builtinSpace("fmnist-small")));
    expect(loadSpace(file)).toEqual(builtinSpace("fmnist-small"));
    expect(() => loadSpace(join(dir, "none.json"))).toThrow(InputFileError);
    writeFileSync(file, "{ not json");
    expect(() => loadSpace(file)).toThrow(new RegExp(`^${file}: is not valid JSON`));
  });
});

describe("malformed space files name the JSON path", () => {
  test.each([
    ["unknown op", (s: any) => (s.candidates[1].op.type = "mbconv3"), /^my-space.json: candidates\[1\]\.op\.type: unknown op 'mbconv3' \(known ops: mbconv, conv, dwsep, skip, avgpool, maxpool\)/],
    ["even kernel", (s: any) => (s.candidates[2].op.k = 4), /candidates\[2\]\.op\.k: must be odd/],
    ["missing kernel", (s: any) => delete s.candidates[2].op.k, /candidates\[2\]\.op\.k: is missing/],
    ["string kernel", (s: any) => (s.candidates[2].op.k = "5"), /candidates\[2\]\.op\.k: must be a whole number from 1 to 15, not the string "5"/],
    ["negative channels", (s: any) => (s.layers[3].out = -64), /layers\[3\]\.out: must be from 1 to 16384, not -64/],
    ["huge channels", (s: any) => (s.layers[3].out = 1e9), /layers\[3\]\.out: must be from 1 to 16384/],
    ["fractional stride", (s: any) => (s.layers[1].stride = 1.5), /layers\[1\]\.stride: must be a whole number/],
    ["channel chain broken", (s: any) => (s.layers[2].in = 24), /layers\[2\]\.in: is 24, but layers\[1\] outputs 32 channels/],
    ["skip where shape changes", (s: any) => s.layers[1].allowed.push("skip"), /layers\[1\]\.allowed\[6\]: 'skip' cannot be used in this layer: skip is the identity, so it needs stride 1 and in == out channels \(this layer: 24 -> 32, stride 2\)/],
    ["unknown allowed", (s: any) => (s.layers[0].allowed[0] = "mb_k9"), /layers\[0\]\.allowed\[0\]: unknown candidate 'mb_k9'/],
    ["duplicate candidate name", (s: any) => (s.candidates[3].name = "mb_k3_e3"), /candidates\[3\]\.name: 'mb_k3_e3' is already the name of candidates\[0\]/],
    ["name with a dot", (s: any) => (s.candidates[3].name = "mb.k5"), /candidates\[3\]\.name: "mb.k5" is not allowed/],
    ["reserved name", (s: any) => (s.candidates[3].name = "sum"), /candidates\[3\]\.name: 'sum' is reserved/],
    ["unknown field", (s: any) => (s.layers[0].strides = 2), /layers\[0\]\.strides: unknown field/],
    ["unknown op field", (s: any) => (s.candidates[0].op.kernel = 3), /candidates\[0\]\.op\.kernel: unknown field for op 'mbconv'/],
    ["zero std", (s: any) => (s.input.normalize.std = [0]), /input\.normalize\.std\[0\]: must be greater than 0/],
    ["std per channel", (s: any) => (s.input.normalize.std = [0.3, 0.3]), /input\.normalize\.std: has 2 entries; at most 1/],
    ["huge input", (s: any) => (s.input.shape = [1, 100000, 28]), /input\.shape\[1\]: must be from 1 to 8192/],
    ["no layers", (s: any) => (s.layers = []), /layers: must have at least 1 entry/],
    ["classes missing", (s: any) => delete s.classes, /classes: is missing/],
    ["fixedDepth without identity", (s: any) => (s.fixedDepth = [2, 3]), /fixedDepth\[1\]: layers\[3\] has no identity \(skip\) candidate/],
    ["pool changing channels", (s: any) => { s.candidates.push({ name: "avg", op: { type: "avgpool" } }); s.layers[0].allowed.push("avg"); }, /layers\[0\]\.allowed\[6\]: 'avg' cannot be used in this layer: avgpool keeps the channel count/],
    ["top level not an object", (s: any) => { for (const k of Object.keys(s)) delete s[k]; s.name = 3; }, /name: must be a string, not number 3/],
  ])("%s", (_what, mutate, expected) => {
    expect(problem(mutate)).toMatch(expected);
  });

  test("an over-large supernet is refused before allocating it", async () => {
    const { buildSupernet } = await import("../../src/supernet/export.js");
    const big = defineSpace({
      name: "big",
      input: { shape: [3, 8, 8], normalize: { mean: [0, 0, 0], std: [1, 1, 1] } },
      classes: 10,
      stem: [],
      candidates: [candidate("mb", ops.mbconv(15, 16))],
      layers: Array.from({ length: 8 }, (_, i) => layer(i === 0 ? 3 : 16384, 16384, 1)),
      head: {},
    });
    expect(() => buildSupernet(big)).toThrow(/would have [\d,]+ parameters; bnnas refuses more than/);
  });
});

describe("TypeScript API", () => {
  test("defineSpace validates and normalises", () => {
    const s = defineSpace({
      name: "tiny",
      input: { shape: [3, 16, 16], normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } },
      classes: 4,
      stem: [],
      candidates: [candidate("c3", ops.conv(3)), candidate("skip", ops.skip()), candidate("pool", ops.maxpool())],
      layers: [layer(3, 8, 2), layer(8, 8, 1)],
      head: {},
    });
    expect(s.layers.map((l) => l.allowed)).toEqual([["c3"], ["c3", "skip", "pool"]]);
    expect(s.input.name).toBe("input");
    expect(() => defineSpace({ ...s, candidates: [candidate("x", ops.mbconv(2, 3))] })).toThrow(/candidates\[0\]\.op\.k: must be odd/);
  });
});
