/**
 * The TypeScript API for declaring spaces (the same object a JSON space file holds), e.g.:
 *
 *   const space = defineSpace({
 *     name: "tiny", input: { shape: [3, 32, 32], normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } },
 *     classes: 10,
 *     stem: [fixed(ops.conv(3), 16, 1)],
 *     candidates: [candidate("c3", ops.conv(3)), candidate("mb", ops.mbconv(5, 3)), candidate("skip", ops.skip())],
 *     layers: [layer(16, 32, 2), layer(32, 32, 1), layer(32, 32, 1, ["mb", "skip"])],
 *     head: {},
 *   });
 *
 * defineSpace validates (throwing SpaceError with the path of the problem) and returns the
 * normalised spec, ready for exportSupernet / buildSupernet.
 */
import type { Activation, CandidateSpec, ConvOp, DwSepOp, FixedOpSpec, LayerSpec, MBConvOp, PoolOp, SkipOp, SpaceSpec } from "./spec.js";
import { validateSpace } from "./validate.js";

type SpaceInput = Omit<SpaceSpec, "input"> & { input: Omit<SpaceSpec["input"], "name"> & { name?: string } };

export function defineSpace(spec: SpaceInput): SpaceSpec {
  return validateSpace(JSON.parse(JSON.stringify(spec)));
}

export const ops = {
  mbconv: (k: number, e: number): MBConvOp => ({ type: "mbconv", k, e }),
  conv: (k: number, act: Activation = "relu"): ConvOp => ({ type: "conv", k, act }),
  dwsep: (k: number, act: Activation = "relu"): DwSepOp => ({ type: "dwsep", k, act }),
  skip: (): SkipOp => ({ type: "skip" }),
  avgpool: (k = 3): PoolOp => ({ type: "avgpool", k }),
  maxpool: (k = 3): PoolOp => ({ type: "maxpool", k }),
};

export function candidate(name: string, op: CandidateSpec["op"]): CandidateSpec {
  return { name, op };
}

export function fixed(op: FixedOpSpec["op"], out: number, stride = 1): FixedOpSpec {
  return { op, out, stride };
}

export function layer(inChannels: number, out: number, stride: number, allowed?: string[], label?: string): LayerSpec {
  return { ...(label ? { label } : {}), in: inChannels, out, stride, ...(allowed ? { allowed } : {}) };
}
