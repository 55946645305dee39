import { describe, expect, it } from "vitest";
import { attr, GraphBuilder } from "../../src/onnx/builder.js";
import { inferShapes, inferTensors, ShapeError } from "../../src/opset/infer.js";

describe("the one shape inference", () => {
  it("resolves PyTorch's view(h.size(0), -1) (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) with a static batch", () => {
    const b = new GraphBuilder();
    b.input("x", [1, 16, 5, 5]);
    const n = b.op("Unsqueeze", [b.op("Gather", [b.op("Shape", ["x"]), b.int64Init("zero", [], [0])], { axis: attr.int(0) }), b.int64Init("axis0", [1], [0])]);
    const target = b.op("Concat", [n, b.int64Init("minus1", [1], [-1])], { axis: attr.int(0) });
    const y = b.op("Reshape", ["x", target]);
    const infos = inferTensors(b.graph("g"));
    expect(infos.get(target)).toEqual({ shape: [2], value: [1, -1] });
    expect(infos.get(y)!.shape).toEqual([1, 400]);
  });
  it("keeps the batch symbolic through Flatten, Gemm and a constant Reshape", () => {
    const b = new GraphBuilder();
    b.input("x", ["N", 4, 2, 2]);
    const f = b.op("Flatten", ["x"], { axis: attr.int(1) });
    const g = b.op("Gemm", [f, b.floatInit("w", [3, 16], new Float32Array(48))], { transB: attr.int(1) });
    const r = b.op("Reshape", ["x", b.int64Init("s", [2], [-1, 8])]);
    const shapes = inferShapes(b.graph("g"));
    expect(shapes.get(f)).toEqual(["N", 16]);
    expect(shapes.get(g)).toEqual(["N", 3]);
    expect(shapes.get(r)).toEqual(["N*2", 8]);
  });
  it("reads the opset forms of one op from its module: axes as attribute or input", () => {
    const b = new GraphBuilder();
    b.input("x", [2, 1, 3, 1]);
    const attrForm = b.op("Squeeze", ["x"], { axes: attr.ints([1]) }); // opset < 13
    const inputForm = b.op("Squeeze", ["x", b.int64Init("ax", [1], [-1])]); // opset >= 13
    const meanAttr = b.op("ReduceMean", ["x"], { axes: attr.ints([2]), keepdims: attr.int(0) }); // opset <= 17
    const meanInput = b.op("ReduceMean", ["x", b.int64Init("ax2", [1], [2])], { keepdims: attr.int(0) }); // opset 18
    const up = b.op("Unsqueeze", ["x"], { axes: attr.ints([0]) });
    const shapes = inferShapes(b.graph("g"));
    expect(shapes.get(attrForm)).toEqual([2, 3, 1]);
    expect(shapes.get(inputForm)).toEqual([2, 1, 3]);
    expect(shapes.get(meanAttr)).toEqual([2, 1, 1]);
    expect(shapes.get(meanInput)).toEqual([2, 1, 1]);
    expect(shapes.get(up)).toEqual([1, 2, 1, 3, 1]);
  });
  it("fails naming the node and op: an unknown op, and a sliding window over a symbolic spatial dim", () => {
    const b = new GraphBuilder();
    b.input("x", ["N", 3, "H", 8]);
    b.op("Resize", ["x"], {}, "up");
    expect(() => inferShapes(b.graph("g"))).toThrow(/node 'up' \(Resize\): bnnas cannot infer shapes for op type Resize/);
    try {
      inferShapes(b.graph("g"));
    } catch (e) {
      expect(e).toBeInstanceOf(ShapeError);
      expect((e as ShapeError).unknownOp).toBe(true);
    }
    const c = new GraphBuilder();
    c.input("x", ["N", 3, "H", 8]);
    c.op("Conv", ["x", c.floatInit("w", [2, 3, 3, 3], new Float32Array(54))], { kernel_shape: attr.ints([3, 3]) }, "conv");
    expect(() => inferShapes(c.graph("g"))).toThrow(/node 'conv' \(Conv\): spatial dim 0 of its input is symbolic \('H'\)/);
  });
  it("MaxPool with ceil_mode drops a last window that would start in the right pad", () => {
    const b = new GraphBuilder();
    b.input("x", [1, 1, 5, 5]);
    const y = b.op("MaxPool", ["x"], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]), ceil_mode: attr.int(1) });
    expect(inferShapes(b.graph("g")).get(y)).toEqual([1, 1, 3, 3]);
  });
});
