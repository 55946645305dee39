/** A small space using every op kind, for op tests (values against PyTorch, costs against the graph). */
import { defineSpace, ops, candidate, fixed, layer } from "../../src/space/define.js";
import type { SpaceSpec } from "../../src/space/spec.js";

export function allOpsSpace(): SpaceSpec {
  return defineSpace({
    name: "all-ops",
    input: { shape: [3, 13, 11], normalize: { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] } },
    classes: 5,
    stem: [fixed(ops.conv(3, "relu6"), 8, 1), fixed(ops.mbconv(3, 1), 8, 1)],
    candidates: [
      candidate("mb_k3_e2", ops.mbconv(3, 2)),
      candidate("mb_k5_e1", ops.mbconv(5, 1)),
      candidate("conv3", ops.conv(3)),
      candidate("conv5_r6", ops.conv(5, "relu6")),
      candidate("conv1_lin", ops.conv(1, "none")),
      candidate("sep3", ops.dwsep(3)),
      candidate("sep5", ops.dwsep(5, "relu6")),
      candidate("skip", ops.skip()),
      candidate("avg", ops.avgpool()),
      candidate("max", ops.maxpool()),
    ],
    layers: [layer(8, 8, 1), layer(8, 12, 2), layer(12, 12, 2), layer(12, 12, 1, ["max", "skip", "sep3"], "last")],
    head: { ops: [fixed(ops.conv(1, "relu6"), 20)] },
  });
}
