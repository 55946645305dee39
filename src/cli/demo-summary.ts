/** The text a person reads at the end of `bnnas demo` (the summary itself: pipeline/demo.ts). */

import type { DemoSummary } from "../pipeline/demo.js";

const millions = (n: number | null) => (n === null ? "?" : `${(n / 1e6).toFixed(2)}M`);
const percent = (x: number) => `${(100 * x).toFixed(2)}%`;

/** How far the ranking agreed with trained accuracy in the space's committed recipe study. */
function studyLine(v: DemoSummary["recipe_study"]): string {
  if (!v) return "no recipe study for this space and recipe; measure one with bnnas bench truth and bnnas bench rank (README, \"How far to trust the ranking\")";
  const ceiling = v.seed_tau === null ? "" : `, whose own seed-to-seed tau is ${v.seed_tau.toFixed(2)}`;
  return `Kendall tau ${v.tau.toFixed(2)} [95% ${v.ci95[0].toFixed(2)}, ${v.ci95[1].toFixed(2)}] in the recipe study (${v.file}, row ${v.row}${v.note ? `: ${v.note}` : ""}; ${v.n} architectures trained from scratch${ceiling})`;
}

export function formatDemoSummary(s: DemoSummary): string {
  const lines = [
    "",
    `bnnas demo: ${s.space}, data ${s.data}`,
    `  supernet        ${s.supernet.candidates} candidates, ${s.supernet.parameters.toLocaleString("en-US")} parameters`,
    `  training        ${s.training.steps} BN-only steps of the supernet, uniform paths (--bn ${s.training.bn}, lr ${s.training.lr}), ${s.training.ms_per_step.toFixed(0)} ms/step, final loss ${s.training.final_loss.toFixed(4)}, train acc ${percent(s.training.final_accuracy)}`,
    `  chosen arch     ${s.chosen.arch.join(",")}  (exact search, MACs <= ${millions(s.max_macs)})`,
    `  BN score        ${s.chosen.score.toFixed(4)}; evolution's best ${s.evolution_best.arch.join(",")} scores ${s.evolution_best.score.toFixed(4)}${s.evolution_matches_exact ? " (ties the exact optimum)" : " (below the exact optimum)"}`,
    `  MACs / params   ${millions(s.chosen.macs)} / ${millions(s.chosen.params)}`,
    `  rank stability  tau of each epoch's BN ranking against the last: ${s.rank_stability.map((e) => `${e.epoch}: ${e.tau.toFixed(2)}`).join(", ") || "no history"}`,
    `  ranking vs truth ${studyLine(s.recipe_study)}`,
    ...(s.retraining
      ? [`  final training  the chosen architecture from scratch, every weight: ${s.retraining.steps} steps (${s.retraining.epochs.toFixed(1)} epochs, lr ${s.retraining.lr} cosine, Nesterov), ${s.retraining.ms_per_step.toFixed(0)} ms/step, final loss ${s.retraining.final_loss.toFixed(4)}, train acc ${percent(s.retraining.final_accuracy)}`]
      : ["  final training  skipped (--retrain-epochs 0): subnet.onnx keeps the supernet's random convolutions"]),
    `  test accuracy   ${percent(s.accuracy)} (subnet.onnx, ${s.images_per_s.toFixed(0)} images/s); the chosen path straight after BN-only supernet training: ${percent(s.accuracy_before_retraining)}`,
    "  time per stage:",
    ...s.stages.map((st) => `    ${st.name.padEnd(24)} ${st.seconds.toFixed(1).padStart(7)} s   ${st.command}`),
    `    ${"total".padEnd(24)} ${s.total_seconds.toFixed(1).padStart(7)} s`,
    `  files in ${s.out}: ${Object.values(s.files).map((f) => f.slice(s.out.length + 1)).join(", ")}`,
    "",
  ];
  return lines.join("\n");
}
