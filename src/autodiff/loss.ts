/**
 * Softmax cross-entropy with label smoothing e over K classes, averaged over the batch, and its
 * gradient in closed form (no need to differentiate the log-softmax graph):
 *   target = (1-e) * onehot(label) + e/K      loss = mean_n( -sum_k target * log_softmax(logits) )
 *   d loss / d logits = (softmax(logits) - target) / N
 * This matches PyTorch's F.cross_entropy(..., label_smoothing=e).
 */
import { attr, type GraphBuilder } from "../onnx/builder.js";

export interface LossTensors {
  loss: string;
  dlogits: string;
}

/** logits [N,K] float, labels [N] int64. */
export function emitSoftmaxCrossEntropy(b: GraphBuilder, logits: string, labels: string, classes: number, smoothing: number, prefix = "loss"): LossTensors {
  const op = (t: string, ins: string[], attrs = {}, name = t) => b.op(t, ins, attrs, `${prefix}/${name}`);
  const logp = op("LogSoftmax", [logits], { axis: attr.int(1) });
  const p = op("Exp", [logp], {}, "softmax");
  const range = b.int64Init(`${prefix}/classes`, [1, classes], Array.from({ length: classes }, (_, i) => i));
  const lab = op("Unsqueeze", [labels, b.int64Init(`${prefix}/axis1`, [1], [1])], {}, "labels_col");
  const onehot = op("Cast", [op("Equal", [lab, range], {}, "is_label")], { to: attr.int(1) }, "onehot");
  const target = op("Add", [op("Mul", [onehot, b.floatInit(`${prefix}/keep`, [], [1 - smoothing])], {}, "onehot_scaled"), b.floatInit(`${prefix}/spread`, [], [smoothing / classes])], {}, "target");
  const perSample = op("ReduceSum", [op("Mul", [target, logp], {}, "target_logp"), b.int64Init(`${prefix}/axes1`, [1], [1])], { keepdims: attr.int(0) }, "neg_loss");
  const loss = op("Neg", [op("ReduceMean", [perSample], { axes: attr.ints([0]), keepdims: attr.int(0) }, "mean_neg_loss")], {}, "loss");
  const n = op("Cast", [op("Gather", [op("Shape", [logits], {}, "shape"), b.int64Init(`${prefix}/zero`, [], [0])], { axis: attr.int(0) }, "batch")], { to: attr.int(1) }, "batch_f");
  const dlogits = op("Div", [op("Sub", [p, target], {}, "p_minus_target"), n], {}, "dlogits");
  return { loss, dlogits };
}
