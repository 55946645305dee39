/**
 * BatchNorm running statistics, updated as PyTorch's BatchNorm2d does in training mode:
 *   running_mean = (1 - m) * running_mean + m * batch_mean
 *   running_var  = (1 - m) * running_var  + m * batch_var * n / (n - 1)
 * with momentum m = 0.1, the batch variance biased (what normalisation uses) and n = N * H * W
 * values per channel. (onnxruntime's training-mode BatchNormalization uses the biased variance
 * here, which is why bnnas does this update itself.)
 */
export const BN_MOMENTUM = 0.1;

export interface BatchStats {
  mean: Float32Array;
  /** Biased batch variance. */
  var: Float32Array;
  /** Values per channel: N * H * W. */
  count: number;
}

export function updateRunningStats(runningMean: Float32Array, runningVar: Float32Array, batch: BatchStats, momentum = BN_MOMENTUM): void {
  const n = batch.mean.length;
  if (runningMean.length !== n || runningVar.length !== n || batch.var.length !== n) {
    throw new Error(`running statistics have ${runningMean.length}/${runningVar.length} channels, the batch ${n}/${batch.var.length}`);
  }
  const unbias = batch.count > 1 ? batch.count / (batch.count - 1) : 1;
  for (let c = 0; c < n; c++) {
    runningMean[c] = (1 - momentum) * runningMean[c]! + momentum * batch.mean[c]!;
    runningVar[c] = (1 - momentum) * runningVar[c]! + momentum * batch.var[c]! * unbias;
  }
}
