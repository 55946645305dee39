/**
 * External data: locations are confined to the model's directory (issue 6 item 5), and a model
 * and its data file are committed as a pair, so no crash pairs a model with another version's data.
 */
import { describe, expect, it } from "vitest";
import fs, { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { confineLocation, readModel, writeModel } from "../../src/model/model-io.js";
import { GraphBuilder } from "../../src/onnx/builder.js";
import { readFloats } from "../../src/onnx/tensor.js";
import type { ModelProto } from "../../src/onnx/proto.js";
import { ModelFormatError, OutputError } from "../../src/errors.js";

const root = mkdtempSync(join(tmpdir(), "bnnas-ext-"));
const dir = join(root, "models");
mkdirSync(join(dir, "weights"), { recursive: true });
writeFileSync(join(root, "secret.bin"), "outside");
writeFileSync(join(dir, "w.bin"), "inside");
writeFileSync(join(dir, "weights", "w.bin"), "inside");
symlinkSync(join(root, "secret.bin"), join(dir, "out-link.bin"));
symlinkSync(root, join(dir, "out-dir"));
symlinkSync("w.bin", join(dir, "in-link.bin"));
const model = join(dir, "m.onnx");

describe("confineLocation", () => {
  for (const [loc, say] of [
    ["../../etc/passwd", /escapes the model's directory/],
    ["/etc/passwd", /must be a relative path/],
    ["C:\\Windows\\win.ini", /must be a relative path/],
    ["weights/../../secret.bin", /escapes/],
    ["./../secret.bin", /escapes/],
    ["out-link.bin", /links outside/],
    ["out-dir/secret.bin", /links outside/],
    ["", /must be a relative path/],
    ["w.bin\0.txt", /must be a relative path/],
    [".", /escapes/],
    ["weights", /not a regular file/],
    ["missing.bin", /does not exist/],
  ] as const) {
    it(`refuses '${loc.replace("\0", "\\0")}'`, () => {
      expect(() => confineLocation(model, loc)).toThrow(ModelFormatError);
      expect(() => confineLocation(model, loc)).toThrow(say);
    });
  }
  it("accepts files inside, also through a symlink that stays inside", () => {
    expect(confineLocation(model, "w.bin")).toBe(join(dir, "w.bin"));
    expect(confineLocation(model, "weights/../w.bin")).toBe(join(dir, "w.bin"));
    expect(confineLocation(model, "weights/w.bin")).toBe(join(dir, "weights", "w.bin"));
    expect(confineLocation(model, "in-link.bin")).toBe(join(dir, "w.bin"));
  });
});

/** Version `v` of a small model whose two initializers (4 KiB and 2 KiB) go to external data. */
function version(v: number): ModelProto {
  const b = new GraphBuilder();
  const x = b.input("x", ["batch", 512]);
  const w = b.floatInit("w", [512, 2], Float32Array.from({ length: 1024 }, (_, i) => v * 1000 + i));
  const w2 = b.floatInit("w2", [2, 256], Float32Array.from({ length: 512 }, (_, i) => -v * 1000 - i));
  b.output(b.op("MatMul", [b.op("MatMul", [x, w]), w2]), ["batch", 256]);
  return b.build({ name: `v${v}` });
}

/** Which version the model file holds, read with its data: its initializers must be exactly that version's. */
function versionOf(file: string): number {
  const m = readModel(file);
  const w = readFloats(m.graph!.initializer.find((t) => t.name === "w")!);
  const w2 = readFloats(m.graph!.initializer.find((t) => t.name === "w2")!);
  const v = w[0]! / 1000;
  const want = version(v).graph!.initializer;
  expect(Array.from(w), `w of version ${v}`).toEqual(Array.from(readFloats(want[0]!)));
  expect(Array.from(w2), `w2 of version ${v}`).toEqual(Array.from(readFloats(want[1]!)));
  return v;
}

/**
 * Runs `f` with node:fs's renameSync and unlinkSync wrapped: `hook` sees each call before it
 * happens (and may throw to stop the writer there, as a crash would) and after. bnnas imports
 * node:fs's named exports, which are live bindings that syncBuiltinESMExports() updates.
 */
function watchingFs(hook: (when: "before" | "after", op: string, target: string) => void, f: () => void): void {
  const original = { renameSync: fs.renameSync, unlinkSync: fs.unlinkSync };
  fs.renameSync = (from: fs.PathLike, to: fs.PathLike) => {
    hook("before", "rename", String(to));
    original.renameSync(from, to);
    hook("after", "rename", String(to));
  };
  fs.unlinkSync = (path: fs.PathLike) => {
    hook("before", "unlink", String(path));
    original.unlinkSync(path);
    hook("after", "unlink", String(path));
  };
  syncBuiltinESMExports();
  try {
    f();
  } finally {
    Object.assign(fs, original);
    syncBuiltinESMExports();
  }
}

const files = (d: string) => readdirSync(d).sort();

describe("external data is committed with its model as a pair", () => {
  it("at every rename and removal of an overwrite, the model file reads as the old or the new version, never a mix", () => {
    const d = mkdtempSync(join(tmpdir(), "bnnas-ext-pair-"));
    const file = join(d, "m.onnx");
    expect(writeModel(file, version(1), { externalData: true }).externalDataFile).toBe(join(d, "m.onnx.data"));
    expect(versionOf(file)).toBe(1);
    for (const v of [2, 3, 4]) {
      const seen: string[] = [];
      let modelRenamed = false;
      watchingFs((when, op, target) => {
        if (op === "rename" && target === file && when === "after") modelRenamed = true;
        const got = versionOf(file);
        seen.push(`${when} ${op} ${basename(target)}: v${got}`);
        expect(got, seen.join("; ")).toBe(modelRenamed ? v : v - 1);
      }, () => writeModel(file, version(v), { externalData: true }));
      expect(modelRenamed, seen.join("; ")).toBe(true);
      expect(versionOf(file)).toBe(v);
      // The old version's data is gone: the model and one data file, whatever its name.
      const names = files(d);
      expect(names, names.join()).toHaveLength(2);
      expect(names[0]).toBe("m.onnx");
      expect(names[1]).toMatch(/^m\.onnx\.([0-9a-f]{16}\.)?data$/);
    }
  });

  it("a crash between the data's rename and the model's leaves the old pair loading as it was; the next write cleans up", () => {
    const d = mkdtempSync(join(tmpdir(), "bnnas-ext-crash-"));
    const file = join(d, "m.onnx");
    writeModel(file, version(1), { externalData: true });
    class Crash extends Error {}
    let atCrash: { version: number; files: string[] } | undefined;
    expect(() =>
      watchingFs((when, op, target) => {
        if (when === "before" && op === "rename" && target === file) {
          // The new data is in place, the model not yet: this is what a crash here leaves.
          atCrash = { version: versionOf(file), files: files(d) };
          throw new Crash("killed");
        }
      }, () => writeModel(file, version(2), { externalData: true })),
    ).toThrow(OutputError);
    expect(atCrash?.version).toBe(1);
    expect(atCrash?.files).toContain("m.onnx.data"); // the old model's data, untouched
    expect(atCrash?.files.filter((n) => /^m\.onnx\.[0-9a-f]{16}\.data$/.test(n))).toHaveLength(1); // the new data, under its own name
    expect(versionOf(file)).toBe(1);
    expect(files(d)).toEqual(["m.onnx", "m.onnx.data"]); // the failed write took back what it added
    writeModel(file, version(3), { externalData: true });
    expect(versionOf(file)).toBe(3);
    expect(files(d)).toHaveLength(2);
  });

  it("a crash after the model's rename, before the old data is removed: the new pair loads, the next write removes the leftover", () => {
    const d = mkdtempSync(join(tmpdir(), "bnnas-ext-late-"));
    const file = join(d, "m.onnx");
    writeModel(file, version(1), { externalData: true });
    // The removal is best effort (a failure there leaves an unreferenced file, as a crash would):
    // refusing it stands in for the crash.
    let refused = 0;
    watchingFs((when, op) => {
      if (when === "before" && op === "unlink") {
        refused++;
        throw new Error("killed");
      }
    }, () => writeModel(file, version(2), { externalData: true }));
    expect(refused).toBe(1);
    expect(versionOf(file)).toBe(2);
    expect(files(d)).toHaveLength(3); // m.onnx, its new data, the old data (unreferenced)
    writeModel(file, version(3), { externalData: true });
    expect(versionOf(file)).toBe(3);
    expect(files(d)).toHaveLength(2);
  });
});
