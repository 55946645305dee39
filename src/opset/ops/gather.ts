/**
 * Gather with constant indices (e.g. a mask entry `Gather(mask, k)`): d data = scatter-add of dy
 * at the gathered positions (repeated indices accumulate). Indices get no gradient.
 */
import { attr } from "../../onnx/builder.js";
import { attrInt } from "../../onnx/graph.js";
import type { GradRule, OpDef } from "../types.js";
import { AttrType } from "../../onnx/proto.js";
import { keepsType } from "../check-util.js";
import { normalizeAxis } from "../shape-util.js";

export const gatherGrad: GradRule = {
  opTypes: ["Gather"],
  inputsToSave: [],
  outputsToSave: [],
  nonDifferentiable: [1],
  gradFunc(ctx, [dy]) {
    const { node } = ctx;
    const [data, indices] = node.input as [string, string];
    const idx = ctx.constant(indices);
    const ds = ctx.shape(data);
    return {
      0: () => {
        if (!idx) throw new Error(`autodiff: Gather '${node.name}': only constant indices are supported`);
        let axis = attrInt(node, "axis", 0);
        if (axis < 0) axis += ds.length;
        if (axis !== 0) throw new Error(`autodiff: Gather '${node.name}': only axis 0 is supported`);
        const k = ds[0] as number;
        const flat = Array.from(idx.data as BigInt64Array, (v) => { const i = Number(v); return i < 0 ? i + k : i; });
        // ScatterND with indices [..., 1] writes slices data[idx] += dy[...].
        const scatterIdx = ctx.b.int64Init(`${node.name || data}::scatter_idx`, [...idx.dims, 1], flat);
        const zeros = ctx.op("ConstantOfShape", [ctx.op("Shape", [data], {}, "data_shape")], {}, "zeros");
        return ctx.op("ScatterND", [zeros, scatterIdx, dy!], { reduction: attr.str("add") }, "ddata");
      },
    };
  },
};

export const gather: OpDef = {
  opTypes: ["Gather"],
  infer(ctx) {
    const data = ctx.input(0), idx = ctx.input(1);
    const axis = normalizeAxis(attrInt(ctx.node, "axis", 0), data.shape.length);
    const shape = [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)];
    const d = data.value;
    const value = d && idx.value && data.shape.length === 1 ? idx.value.map((i) => d[i < 0 ? i + d.length : i]!) : undefined;
    return [{ shape, value }];
  },
  grad: gatherGrad,
  checks: { attributes: { axis: AttrType.INT }, closedAttributes: true, indexInputs: [1], outputType: keepsType },
};
