/**
 * Gather with constant indices (e.g. a mask entry `Gather(mask, k)`): d data = scatter-add of dy
 * at the gathered positions (repeated indices accumulate). Indices get no gradient.
 */
import { attr } from "../../onnx/builder.js";
import { attrInt } from "../../onnx/graph.js";
import type { GradRule } from "../rule.js";

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
