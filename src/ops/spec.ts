/**
 * What a candidate op is, as a space file declares it (the `op` objects of a SpaceSpec). Each kind
 * is read, placed, costed and emitted by its own file in this folder.
 */

export type Activation = "relu" | "relu6" | "none";

/** MBConv(k, e): [1x1 expand, BN, ReLU6 (absent when e = 1)], kxk depthwise (layer stride), BN, ReLU6, 1x1 project, BN; residual when stride 1 and in == out. */
export interface MBConvOp { type: "mbconv"; k: number; e: number }
/** Conv kxk (layer stride) in -> out, BN, activation (default relu). */
export interface ConvOp { type: "conv"; k: number; act?: Activation }
/** Depthwise kxk (layer stride) on in, BN, act; pointwise 1x1 in -> out, BN, act (default relu; as torch-tiny). */
export interface DwSepOp { type: "dwsep"; k: number; act?: Activation }
/** Identity: only where stride is 1 and in == out. */
export interface SkipOp { type: "skip" }
/** kxk pooling (default 3), pad k//2, layer stride; only where in == out. Average pooling counts padding (PyTorch's default). */
export interface PoolOp { type: "avgpool" | "maxpool"; k?: number }

export type OpSpec = MBConvOp | ConvOp | DwSepOp | SkipOp | PoolOp;
