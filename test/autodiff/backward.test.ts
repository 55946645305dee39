import { describe, expect, it } from "vitest";
import { GraphBuilder, attr } from "../../src/onnx/builder.js";
import { GraphIndex } from "../../src/onnx/graph.js";
import { buildBackward } from "../../src/autodiff/backward.js";
import { inferShapes } from "../../src/opset/infer.js";
import { checkGradients, randn, rng } from "./harness.js";

describe("backward builder", () => {
  it("visits only nodes between the wrt tensors and the seeds, and builds no weight gradient for frozen convs", () => {
    const b = new GraphBuilder();
    b.input("x", ["N", 2, 4, 4]);
    b.input("gamma", [2]);
    b.floatInit("w", [2, 2, 3, 3], new Float32Array(36).fill(0.1));
    const c = b.op("Conv", ["x", "w"], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) }, "conv");
    const y = b.op("Mul", [c, b.op("Reshape", ["gamma", b.int64Init("s", [4], [1, 2, 1, 1])], {}, "g4")], {}, "scale");
    const side = b.op("Relu", [c], {}, "unrelated_branch");
    const g = b.graph("g");
    const shapes = inferShapes(g);
    const out = new GraphBuilder();
    const grads = buildBackward(out, { nodes: new GraphIndex(g).topoOrder(), shapes, constant: (t) => new GraphIndex(g).constant(t), seeds: new Map([[y, "dy"]]), wrt: ["gamma"] });
    expect([...grads.keys()]).toEqual(["gamma"]);
    const ops = out.nodes.map((n) => n.opType);
    // Only the Mul (and the Reshape feeding gamma in) are differentiated: no Conv/ConvTranspose, no Relu gradient.
    expect(ops).not.toContain("Conv");
    expect(ops).not.toContain("ConvTranspose");
    // Gradient nodes are named `<forward node>_grad/...`: none may belong to the Relu branch or the Conv.
    const relu = g.node.find((n) => n.output[0] === side)!;
    const convNode = g.node.find((n) => n.output[0] === c)!;
    expect(out.nodes.length).toBeGreaterThan(0);
    expect(out.nodes.filter((n) => n.name.startsWith(`${relu.name}_grad/`) || n.name.startsWith(`${convNode.name}_grad/`))).toEqual([]);
    expect(out.nodes.flatMap((n) => n.input)).not.toContain(side);
  });
  it("a residual block (x + f(x)) sums both gradient contributions", async () => {
    const r = rng(30);
    await checkGradients({
      dynamicBatch: true,
      inputs: { x: { dims: [2, 3, 4, 4], data: randn(96, r), grad: true }, w: { dims: [3, 3, 3, 3], data: randn(81, r, 0.2), constant: true } },
      build: (b) => b.op("Add", ["x", b.op("Conv", ["x", "w"], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) })]),
    });
  });
});
