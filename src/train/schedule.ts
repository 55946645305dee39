/** Learning-rate schedules over a run of `total` steps; `step` counts from 0. */
export type LrSchedule = "constant" | "linear" | "cosine";
export const LR_SCHEDULES: readonly LrSchedule[] = ["constant", "linear", "cosine"];

export function learningRate(schedule: LrSchedule, base: number, step: number, total: number): number {
  const t = total > 0 ? Math.min(1, step / total) : 0;
  switch (schedule) {
    case "constant": return base;
    // As SPOS / BN-NAS's LambdaLR: lr * (1 - step / total).
    case "linear": return base * (1 - t);
    // torch.optim.lr_scheduler.CosineAnnealingLR with eta_min = 0, T_max = total.
    case "cosine": return base * 0.5 * (1 + Math.cos(Math.PI * t));
  }
}
