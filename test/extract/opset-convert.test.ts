import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { buildSupernet } from "../../src/supernet/export.js";
import { builtinSpace } from "../../src/space/builtins.js";
import { readModel, writeModel } from "../../src/model/model-io.js";
import { extractToFile } from "../../src/pipeline/extract.js";
import { openSupernet } from "../../src/extract/from-file.js";
import { convertOpset, modelOpset, OpsetConversionError } from "../../src/extract/opset-convert.js";
import { OPSET_FORMS } from "../../src/extract/opset-forms.js";
import { cloneForEditing } from "../../src/onnx/clone.js";
import { knownOps } from "../../src/opset/registry.js";
import { GraphBuilder, valueInfo } from "../../src/onnx/builder.js";
import { make, type ModelProto } from "../../src/onnx/proto.js";
import { floatTensor } from "../../src/onnx/tensor.js";
import { Session } from "../../src/runtime/ort.js";
import type { Tensor } from "../../src/onnx/tensor.js";
import { allOpsSpace } from "../ops/all-ops-space.js";
import { FIXTURES_DIR } from "../fixtures/paths.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-opset-"));
const ORACLES = join(FIXTURES_DIR, "deploy", "onnx_oracles.py");

/** Runs the ONNX oracles script; returns its problem lines ("" when all pass). */
function onnxOracles(spec: { check?: [string, number][]; convert?: [string, number, string][] }): string {
  const f = join(dir, `oracle-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify(spec));
  const r = spawnSync("/usr/bin/python3", [ORACLES, f], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`python3 onnx oracles failed to run: ${r.stderr}`);
  return r.stdout.trim();
}

async function logits(model: ModelProto | string, x: Tensor): Promise<Float32Array> {
  const s = await Session.create(typeof model === "string" ? readModel(model) : model, { threads: 1 });
  try {
    const out = await s.run({ [s.inputNames[0]!]: x });
    return out[s.outputNames[0]!]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const opTypes = (file: string) => readModel(file).graph!.node.map((n) => n.opType);

describe("extract-subnet --opset", () => {
  it("writes fmnist-small subnets (float and folded) at every opset from 10 to 17 that compute the same logits and pass ONNX's checker and version converter", async () => {
    const supernet = join(dir, "fmnist-small.onnx");
    writeModel(supernet, buildSupernet(builtinSpace("fmnist-small"), { seed: 3 }).model);
    const x: Tensor = { dims: [3, 1, 28, 28], data: Float32Array.from({ length: 3 * 784 }, (_, i) => Math.sin(i * 0.37) * 1.5) };
    const arch = "0,1,3,1,2,0";
    const check: [string, number][] = [];
    for (const foldBn of [false, true]) {
      const base = join(dir, `fm-${foldBn}.onnx`);
      expect(extractToFile(supernet, { arch, output: base, foldBn }).opset).toEqual({ from: 17, to: 17, rewritten: 0 });
      const want = await logits(base, x);
      for (let opset = 10; opset <= 17; opset++) {
        const out = join(dir, `fm-${foldBn}-${opset}.onnx`);
        // The pipeline's --opset path once (test/deploy runs the CLI's); the rest convert in memory.
        if (opset === 10) expect(extractToFile(supernet, { arch, output: out, foldBn, opset }).opset.to).toBe(10);
        else {
          const m = readModel(base);
          convertOpset(m, opset);
          writeModel(out, m);
        }
        const m = readModel(out);
        expect(modelOpset(m)).toBe(opset);
        expect(Number(m.irVersion)).toBe({ 10: 5, 11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8 }[opset]);
        // Clip takes its bounds as attributes below 11, as inputs from 11 on.
        const clip = m.graph!.node.find((n) => n.opType === "Clip")!;
        expect(clip.input.length, `opset ${opset}`).toBe(opset < 11 ? 1 : 3);
        expect(clip.attribute.map((a) => a.name).sort()).toEqual(opset < 11 ? ["max", "min"] : []);
        expect(maxDiff(await logits(out, x), want), `fold ${foldBn} opset ${opset}`).toBeLessThanOrEqual(1e-5);
        check.push([out, opset]);
      }
    }
    // ONNX's own adapters take the opset-10 model back to 17: an independent conversion, same logits.
    const back = join(dir, "fm-true-10.onnx-converter-17.onnx");
    expect(onnxOracles({ check, convert: [[join(dir, "fm-true-10.onnx"), 17, back]] })).toBe("");
    expect(maxDiff(await logits(back, x), await logits(join(dir, "fm-true.onnx"), x))).toBeLessThanOrEqual(1e-5);
  });

  it("converts every op kind of a space (conv, mbconv, dwsep, pools, skip, relu6, linear) to opset 10 and back up to 17", async () => {
    const supernet = join(dir, "all-ops.onnx");
    writeModel(supernet, buildSupernet(allOpsSpace(), { seed: 1 }).model);
    const { structure } = openSupernet(supernet);
    const x: Tensor = { dims: [2, 3, 13, 11], data: Float32Array.from({ length: 2 * 3 * 13 * 11 }, (_, i) => Math.cos(i * 0.21)) };
    const check: [string, number][] = [];
    // Enough architectures that every layer has run every one of its candidates.
    const most = Math.max(...structure.layers.map((l) => l.candidates.length));
    for (let k = 0; k < most; k++) {
      const arch = structure.layers.map((l) => l.candidates[k % l.candidates.length]!.position);
      const base = join(dir, `all-${k}.onnx`);
      const low = join(dir, `all-${k}-10.onnx`);
      extractToFile(supernet, { arch, output: base });
      extractToFile(supernet, { arch, output: low, opset: 10 });
      const want = await logits(base, x);
      expect(maxDiff(await logits(low, x), want), `arch ${arch}`).toBeLessThanOrEqual(1e-5);
      // ... and up again: the table's rewrites in the other direction.
      const up = readModel(low);
      convertOpset(up, 17);
      expect(maxDiff(await logits(up, x), want), `arch ${arch} 10 -> 17`).toBeLessThanOrEqual(1e-5);
      expect(up.graph!.node.filter((n) => n.opType === "Clip").every((n) => n.attribute.length === 0)).toBe(true);
      check.push([low, 10]);
    }
    expect(new Set(check.flatMap(([f]) => opTypes(f)))).toEqual(new Set(["Conv", "BatchNormalization", "Clip", "Relu", "Add", "AveragePool", "MaxPool", "GlobalAveragePool", "Flatten", "Gemm"]));
    expect(onnxOracles({ check })).toBe("");
  });

  it("names the node and the lowest opset that works when a node cannot be written at the requested one", () => {
    // HardSwish exists from opset 14; a Clip whose max is computed cannot take opset 10's attribute form.
    const b = new GraphBuilder();
    b.inputs.push(valueInfo("x", ["batch", 4]));
    const hs = b.op("HardSwish", ["x"], {}, "act.hardswish");
    const model = (): ModelProto => {
      const g = make.graph({ name: "g", node: [...b.nodes], initializer: [...b.initializers], input: [...b.inputs], output: [valueInfo(hs, ["batch", 4])] });
      return make.model({ irVersion: 8, opsetImport: [{ domain: "", version: 17 }], graph: g });
    };
    let e: unknown;
    try {
      convertOpset(model(), 12, "m.onnx");
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(OpsetConversionError);
    expect((e as Error).message).toBe("m.onnx: node 'act.hardswish' (HardSwish) cannot be written at opset 12: HardSwish exists from opset 14; the lowest opset that works is 14 (pass opset 14 or higher)");
    expect(modelOpset((() => { const m = model(); convertOpset(m, 14); return m; })())).toBe(14);

    const clipGraph = make.graph({
      name: "g",
      node: [
        make.node({ name: "bound", opType: "ReduceMax", input: ["x"], output: ["m"], attribute: [make.attribute({ name: "keepdims", type: 2, i: 0 })] }),
        make.node({ name: "clip", opType: "Clip", input: ["x", "lo", "m"], output: ["y"] }),
      ],
      initializer: [floatTensor("lo", [], [0])],
      input: [valueInfo("x", ["batch", 4])],
      output: [valueInfo("y", ["batch", 4])],
    });
    const clipModel = make.model({ irVersion: 8, opsetImport: [{ domain: "", version: 17 }], graph: clipGraph });
    expect(() => convertOpset(clipModel, 10, "c.onnx")).toThrow(
      "c.onnx: node 'clip' (Clip) cannot be written at opset 10: its max is computed in the graph, and opset 10's Clip takes it only as a constant attribute; the lowest opset that works is 11",
    );
  });

  it("refuses a Softmax over an inner axis below opset 13 (the older Softmax coerces to 2-D), keeps the last axis", () => {
    const softmax = (axis: number) => {
      const g = make.graph({
        name: "g",
        node: [make.node({ name: "sm", opType: "Softmax", input: ["x"], output: ["y"], attribute: [make.attribute({ name: "axis", type: 2, i: axis })] })],
        input: [valueInfo("x", ["batch", 3, 4])],
        output: [valueInfo("y", ["batch", 3, 4])],
      });
      return make.model({ irVersion: 8, opsetImport: [{ domain: "", version: 17 }], graph: g });
    };
    expect(() => convertOpset(softmax(1), 12)).toThrow(/node 'sm' \(Softmax\) cannot be written at opset 12: .*the lowest opset that works is 13/);
    const m = softmax(-1);
    convertOpset(m, 11);
    expect(m.graph!.node[0]!.attribute.map((a) => [a.name, Number(a.i)])).toEqual([["axis", 2]]);
  });

  it("keeps one default-domain opset entry for a PyTorch export (copied entries lose protobuf's default domain)", () => {
    const m = cloneForEditing(readModel(join(FIXTURES_DIR, "extract", "matrix.onnx")));
    const before = m.opsetImport.length;
    convertOpset(m, 17);
    expect(m.opsetImport.length).toBe(before);
    convertOpset(m, 10);
    expect(m.opsetImport.filter((o) => !o.domain || o.domain === "ai.onnx").map((o) => Number(o.version))).toEqual([10]);
  });

  it("has a form entry for every op type bnnas knows (a new op cannot be converted blindly)", () => {
    const missing = knownOps().filter((op) => !(op in OPSET_FORMS));
    expect(missing).toEqual([]);
    for (const [op, f] of Object.entries(OPSET_FORMS)) {
      const ats = (f.changes ?? []).map((c) => c.at);
      expect(ats, op).toEqual([...ats].sort((a, b) => a - b));
      expect(ats.every((a) => a > f.since), op).toBe(true);
    }
  });
});
