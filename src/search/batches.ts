/**
 * Sampling strategies (evolution, random) as plans: generators that yield batches of new,
 * feasible architectures whose `score` the driver fills in, and return the best found. One plan
 * serves both kinds of indicator: `runPlan` keeps the problem's per-layer sums (decomposable
 * indicators), `runPlanAsync` scores each batch with an architecture-level scorer.
 */
import type { Evaluated } from "./problem.js";

export type SearchPlan = Generator<Evaluated[], Evaluated[], void>;

/** Scores whole architectures (one path evaluation each); the result is in the order given. */
export type ArchBatchScorer = (archs: readonly (readonly number[])[]) => Promise<number[]>;

export function runPlan(plan: SearchPlan): Evaluated[] {
  for (;;) {
    const step = plan.next();
    if (step.done) return step.value;
  }
}

export async function runPlanAsync(plan: SearchPlan, scorer: ArchBatchScorer): Promise<Evaluated[]> {
  for (;;) {
    const step = plan.next();
    if (step.done) return step.value;
    const scores = await scorer(step.value.map((e) => e.arch));
    if (scores.length !== step.value.length) throw new Error(`search: the scorer returned ${scores.length} scores for ${step.value.length} architectures`);
    step.value.forEach((e, i) => (e.score = scores[i]!));
  }
}
