import { describe, expect, test } from "vitest";
import { builtinSpace } from "../../src/space/builtins.js";
import { buildSupernet } from "../../src/supernet/export.js";
import { MANIFEST_KEY, TRAINING_KEY, getTrainingRecord, readManifest, setTrainingRecord, writeManifest } from "../../src/supernet/manifest.js";
import { ModelFormatError } from "../../src/errors.js";
import type { ModelProto } from "../../src/onnx/proto.js";
import { make } from "../../src/onnx/proto.js";

const fresh = () => buildSupernet(builtinSpace("fmnist-small"), { weights: false });

function tamper(edit: (m: any) => void): ModelProto {
  const { model } = fresh();
  const e = model.metadataProps.find((x) => x.key === MANIFEST_KEY)!;
  const m = JSON.parse(e.value);
  edit(m);
  e.value = JSON.stringify(m);
  return model;
}

describe("readManifest", () => {
  test("absent on a file without one", () => {
    const { model } = fresh();
    model.metadataProps = [];
    expect(readManifest(model, "f.onnx")).toBeUndefined();
  });

  test.each([
    ["not JSON", (m: ModelProto) => (m.metadataProps[0]!.value = "{oops"), /f\.onnx: its bnnas manifest \(metadata 'bnnas\.manifest'\) is malformed: not JSON/],
    ["newer format", null, /format: is 2; this bnnas reads format 1/],
    ["bad space", null, /space\.layers\[1\]\.stride: must be from 1 to 4/],
    ["missing mask input", null, /layers\[2\]\.mask: 'maskX' is not a graph input/],
    ["BN initializer that does not exist", null, /layers\[0\]\.candidates\[1\]\.batchNorms\[2\]\.scale: 'nope' is not an initializer/],
    ["indicator outside the list", null, /layers\[0\]\.candidates\[0\]\.indicator: is not one of the candidate's batchNorms/],
    ["negative macs", null, /layers\[1\]\.candidates\[0\]\.macs: must be a whole number >= 0/],
    ["maskMul not a Mul", null, /layers\[0\]\.candidates\[0\]\.maskMul: 'layers\.0\.sum' is not a Mul node/],
  ])("%s -> ModelFormatError naming the file and the path", (what, direct, expected) => {
    const edits: Record<string, (m: any) => void> = {
      "newer format": (m) => (m.format = 2),
      "bad space": (m) => (m.space.layers[1].stride = 9),
      "missing mask input": (m) => (m.layers[2].mask = "maskX"),
      "BN initializer that does not exist": (m) => (m.layers[0].candidates[1].batchNorms[2].scale = "nope"),
      "indicator outside the list": (m) => (m.layers[0].candidates[0].indicator.node = "other"),
      "negative macs": (m) => (m.layers[1].candidates[0].macs = -1),
      "maskMul not a Mul": (m) => (m.layers[0].candidates[0].maskMul = "layers.0.sum"),
    };
    let model: ModelProto;
    if (direct) {
      model = fresh().model;
      direct(model);
    } else model = tamper(edits[what]!);
    expect(() => readManifest(model, "f.onnx")).toThrow(ModelFormatError);
    expect(() => readManifest(model, "f.onnx")).toThrow(expected);
  });
});

describe("training record", () => {
  test("bnnas files keep it in manifest.training", () => {
    const { model, manifest } = fresh();
    expect(getTrainingRecord(model)).toBeNull();
    setTrainingRecord(model, { steps: 300, lr: 0.1, arch: "uniform" });
    expect(getTrainingRecord(model)).toEqual({ steps: 300, lr: 0.1, arch: "uniform" });
    expect(readManifest(model, "f.onnx")!.training).toEqual({ steps: 300, lr: 0.1, arch: "uniform" });
    expect(model.metadataProps.map((e) => e.key)).toEqual([MANIFEST_KEY]);
    writeManifest(model, { ...manifest, training: { steps: 1 } });
    expect(getTrainingRecord(model)).toEqual({ steps: 1 });
  });

  test("foreign files keep it under bnnas.training; other metadata is untouched", () => {
    const { model } = fresh();
    model.metadataProps = [make.entry("producer_note", "torch")];
    expect(getTrainingRecord(model)).toBeNull();
    setTrainingRecord(model, { steps: 2 });
    setTrainingRecord(model, { steps: 3 });
    expect(model.metadataProps.map((e) => e.key)).toEqual(["producer_note", TRAINING_KEY]);
    expect(getTrainingRecord(model)).toEqual({ steps: 3 });
    model.metadataProps[1]!.value = "[1]";
    expect(() => getTrainingRecord(model, "t.onnx")).toThrow(/t\.onnx: its bnnas training record is not an object/);
  });
});
