/** Learning-rate schedules over a run of `total` steps; `step` counts from 0. */
export type LrSchedule = "constant" | "linear" | "cosine";
export const LR_SCHEDULES: readonly LrSchedule[] = ["constant", "linear", "cosine"];

/**
 * The learning rate of step `step` of `total`. With `warmup` steps, the rate first rises linearly
 * from base/warmup to base over those steps (a linear warm-up as in Goyal et al. 2017: the first
 * update is never taken at the full rate, which keeps full-weight supernet training from
 * blowing up early), and the schedule then runs over the remaining steps.
 */
export function learningRate(schedule: LrSchedule, base: number, step: number, total: number, warmup = 0): number {
  if (step < warmup) return (base * (step + 1)) / warmup;
  const span = total - warmup;
  const t = span > 0 ? Math.min(1, (step - warmup) / span) : 0;
  switch (schedule) {
    case "constant": return base;
    // As SPOS / BN-NAS's LambdaLR: lr * (1 - step / total).
    case "linear": return base * (1 - t);
    // torch.optim.lr_scheduler.CosineAnnealingLR with eta_min = 0, T_max = total.
    case "cosine": return base * 0.5 * (1 + Math.cos(Math.PI * t));
  }
}
