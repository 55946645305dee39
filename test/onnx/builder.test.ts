import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GraphBuilder, attr } from "../../src/onnx/builder.js";
import { readModel, writeModel, decodeModel, encodeModel } from "../../src/model/model-io.js";
import { readFloats } from "../../src/onnx/tensor.js";
import { Session } from "../../src/runtime/ort.js";
import { ModelFormatError } from "../../src/errors.js";

function tinyModel() {
  const b = new GraphBuilder();
  const x = b.input("x", ["batch", 3]);
  const w = b.floatInit("w", [3, 2], [1, 2, 3, 4, 5, 6]);
  const y = b.op("MatMul", [x, w], {}, "mm");
  const z = b.op("Relu", [y], {}, "relu");
  const s = b.op("Softmax", [z], { axis: attr.int(-1) }, "softmax");
  b.output(s, ["batch", 2]);
  return b.build({ name: "tiny", metadata: { k: "v" } });
}

describe("onnx builder and model io", () => {
  it("builds a model that onnxruntime runs", async () => {
    const session = await Session.create(tinyModel());
    const out = await session.run({ x: { dims: [1, 3], data: Float32Array.of(1, 0, -1) } });
    const probs = out[session.outputNames[0]!]!.data as Float32Array;
    // x @ w = [1-5, 2-6] = [-4, -4] -> relu 0,0 -> softmax 0.5, 0.5
    expect(Array.from(probs)).toEqual([0.5, 0.5]);
  });

  it("round-trips through bytes with identical encoding and metadata", () => {
    const bytes = encodeModel(tinyModel());
    const again = encodeModel(decodeModel(bytes));
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
    expect(decodeModel(bytes).metadataProps[0]).toMatchObject({ key: "k", value: "v" });
  });

  it("writes and reads external data, confined to the model directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "bnnas-io-"));
    const b = new GraphBuilder();
    const x = b.input("x", ["batch", 512]);
    const w = b.floatInit("w", [512, 2], Float32Array.from({ length: 1024 }, (_, i) => i / 7));
    b.output(b.op("MatMul", [x, w]), ["batch", 2]);
    const model = b.build({ name: "ext" });
    const file = join(dir, "m.onnx");
    writeModel(file, model, { externalData: true });
    expect(readdirSync(dir).sort()).toEqual(["m.onnx", "m.onnx.data"]);
    const back = readModel(file);
    expect(Array.from(readFloats(back.graph!.initializer[0]!))).toEqual(Array.from(readFloats(model.graph!.initializer[0]!)));
    // A hostile location is refused.
    const evil = decodeModel(readFileSync(file));
    evil.graph!.initializer[0]!.externalData[0]!.value = "../../etc/passwd";
    writeFileSync(join(dir, "evil.onnx"), encodeModel(evil));
    expect(() => readModel(join(dir, "evil.onnx"))).toThrow(/escapes the model's directory/);
  });

  it("refuses garbage with a format error", () => {
    const dir = mkdtempSync(join(tmpdir(), "bnnas-io-"));
    writeFileSync(join(dir, "g.onnx"), "this is not protobuf at all, just text\n");
    expect(() => readModel(join(dir, "g.onnx"))).toThrow(ModelFormatError);
  });
});
