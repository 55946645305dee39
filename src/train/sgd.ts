/**
 * Stochastic gradient descent with momentum, step for step as torch.optim.SGD does it:
 *
 *   g = grad + weight_decay * p                      (only for parameters that decay)
 *   buf = g                      on a parameter's first step
 *   buf = momentum * buf + (1 - dampening) * g       afterwards
 *   g = g + momentum * buf  (nesterov)  or  g = buf
 *   p = p - lr * g
 *
 * Parameters without a gradient this step (candidates off the sampled path) are left alone,
 * momentum included, as PyTorch does when their .grad is None (zero_grad(set_to_none=True)).
 */
export interface SgdOptions {
  momentum: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay: number;
  /** Whether `name` receives weight decay (e.g. not BatchNorm gamma/beta). Default: all do. */
  decays?: (name: string) => boolean;
}

export class Sgd {
  /** Momentum buffers by parameter name (exposed for checkpoints). */
  readonly buffers = new Map<string, Float32Array>();

  constructor(private readonly options: SgdOptions) {
    if (options.nesterov && (options.momentum <= 0 || (options.dampening ?? 0) !== 0)) {
      throw new RangeError("Nesterov momentum requires a momentum and zero dampening");
    }
  }

  /** Applies one update with learning rate `lr` to every parameter that has a gradient. */
  step(params: Map<string, Float32Array>, grads: ReadonlyMap<string, Float32Array>, lr: number): void {
    const { momentum, weightDecay, nesterov } = this.options;
    const dampening = this.options.dampening ?? 0;
    for (const [name, grad] of grads) {
      const p = params.get(name);
      if (!p) throw new Error(`gradient for '${name}', which is not a trained parameter`);
      if (p.length !== grad.length) throw new Error(`gradient for '${name}' has ${grad.length} values, the parameter ${p.length}`);
      const wd = weightDecay !== 0 && (this.options.decays?.(name) ?? true) ? weightDecay : 0;
      // Float32 intermediates, so the arithmetic rounds like PyTorch's float tensors. Without
      // weight decay or Nesterov g is only read, so the gradient itself serves (no per-step copy).
      let g: Float32Array = grad;
      if (wd !== 0 || nesterov) {
        g = new Float32Array(grad.length);
        for (let i = 0; i < g.length; i++) g[i] = wd === 0 ? grad[i]! : grad[i]! + wd * p[i]!;
      }
      let update: Float32Array = g;
      if (momentum !== 0) {
        let buf = this.buffers.get(name);
        if (!buf) {
          buf = Float32Array.from(g);
          this.buffers.set(name, buf);
        } else {
          for (let i = 0; i < buf.length; i++) buf[i] = momentum * buf[i]! + (1 - dampening) * g[i]!;
        }
        if (nesterov) for (let i = 0; i < g.length; i++) g[i] = g[i]! + momentum * buf[i]!;
        else update = buf;
      }
      for (let i = 0; i < p.length; i++) p[i] = p[i]! - lr * update[i]!;
    }
  }
}

/** Clamps every gradient value to [-clip, clip] (torch.nn.utils.clip_grad_value_), in place. */
export function clipGradValues(grads: ReadonlyMap<string, Float32Array>, clip: number): void {
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] = Math.min(clip, Math.max(-clip, g[i]!));
}
