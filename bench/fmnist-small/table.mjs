// Prints the ranking study's table (README, "How far to trust the ranking") from results.jsonl
// (study.sh) and the training summaries in runs/ (supernets.sh): one markdown row per indicator
// or recipe, with tau and its bootstrap interval, rho, top-10% precision, the truth percentile of
// the indicator's best, and the training time the row cost.
//   node table.mjs [results.jsonl] [runs]
import { existsSync, readFileSync } from "node:fs";
const [results = "results.jsonl", runs = "runs"] = process.argv.slice(2);
const ORDER = ["paper-last-lr0.1-3ep", "all-lr1-1ep", "all-lr1-3ep", "all-lr1-10ep", "fair-all-lr1-67steps", "unbiased-all-lr1-3ep", "spos-3ep", "spos-3ep-oneshot", "macs", "params", "synflow", "snip", "grad_norm", "naswot"];
const at = (row) => (ORDER.includes(row) ? ORDER.indexOf(row) : ORDER.length);
const rows = readFileSync(results, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)).sort((a, b) => at(a.row) - at(b.row) || a.row.localeCompare(b.row));
const f = (x) => (x >= 0 ? " " : "") + x.toFixed(2);
const training = (net) => {
  const file = `${runs}/${net}.json`;
  if (!existsSync(file)) return "none (at init)";
  const t = JSON.parse(readFileSync(file, "utf8"));
  return `${t.steps} steps, ${((t.steps * t.ms_per_step) / 60000).toFixed(1)} min`;
};
console.log("| indicator / recipe | Kendall tau (95% CI) | Spearman rho | top-10% precision | best at truth percentile | training | scoring the truth's archs |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const { row, supernet, rank_seconds, report: r } of rows) {
  const ci = (w) => `${f(w.value)} (${f(w.ci95[0])} .. ${f(w.ci95[1])})`;
  console.log(`| ${row} | ${ci(r.kendall_tau)} | ${f(r.spearman.value)} | ${r.top10_precision.toFixed(2)} | ${r.best_percentile.toFixed(0)} | ${training(supernet)} | ${Number(rank_seconds).toFixed(0)} s |`);
}
const seed = rows.find((r) => r.report.seed_tau)?.report.seed_tau;
if (seed) console.log(`\ntruth's own seed-to-seed tau (seeds ${seed.seeds.join(", ")}, ${seed.n} architectures): ${seed.value.toFixed(3)}`);
const ten = rows.find((r) => r.row === "all-lr1-10ep");
if (ten) console.log(`\nBN, all-lr1-10ep, by epoch: tau against the truth ${ten.report.truth_tau_by_epoch.map((e) => `${e.epoch}: ${f(e.tau)}`).join(", ")}; against the last epoch ${ten.report.rank_stability.map((e) => `${e.epoch}: ${f(e.tau)}`).join(", ")}`);
