/**
 * The training-mode BatchNormalization lowering lives with the BN op module
 * (src/opset/ops/batch-normalization-lowering.ts); re-exported here for train/engine's imports
 * (plan.ts, blocks.ts) until they import it from there.
 */
export { loweredNames, lowerBatchNorm, spatialCount, type LoweredBatchNorm } from "../opset/ops/batch-normalization-lowering.js";
