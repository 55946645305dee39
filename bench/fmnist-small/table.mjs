// Prints the ranking study's table (README, "How far to trust the ranking") from the results files
// of study.sh (one per truth table) and the training summaries in runs/ (supernets.sh): one
// markdown row per indicator or recipe, with Kendall tau and its bootstrap interval against each
// truth, and the training time the row cost; then, per truth, its own seed-to-seed tau.
//   node table.mjs [--runs DIR] [results.jsonl ...]   (default: results.jsonl)
import { existsSync, readFileSync } from "node:fs";
const args = process.argv.slice(2);
let runs = "runs";
const at = args.indexOf("--runs");
if (at >= 0) runs = args.splice(at, 2)[1];
const files = args.length ? args : ["results.jsonl"];
const ORDER = ["paper-last-lr0.1-3ep", "all-lr1-1ep", "all-lr1-3ep", "all-lr1-10ep", "fair-all-lr1-67steps", "unbiased-all-lr1-3ep", "spos-3ep", "spos-3ep-oneshot", "macs", "params", "synflow", "snip", "grad_norm", "naswot"];
const order = (row) => (ORDER.includes(row) ? ORDER.indexOf(row) : ORDER.length);
const results = files.map((file) => new Map(readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)).map((r) => [r.row, r])));
const rows = [...new Set(results.flatMap((m) => [...m.keys()]))].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
const f = (x) => (x >= 0 ? " " : "") + x.toFixed(2);
const training = (net) => {
  const file = `${runs}/${net}.json`;
  if (!existsSync(file)) return "none (at init)";
  const t = JSON.parse(readFileSync(file, "utf8"));
  return `${t.steps} steps, ${((t.steps * t.ms_per_step) / 60000).toFixed(1)} min`;
};
const truthName = (m) => {
  const r = [...m.values()][0].report;
  return `tau against ${r.n} archs${r.seed_tau ? ` (ceiling ${r.seed_tau.value.toFixed(2)})` : ""}`;
};
console.log(`| indicator / recipe | ${files.map((file, i) => `${file}: ${truthName(results[i])}`).join(" | ")} | training | scoring the truth's archs |`);
console.log(`| --- | ${files.map(() => "---").join(" | ")} | --- | --- |`);
for (const row of rows) {
  const cells = results.map((m) => {
    const r = m.get(row)?.report;
    return r ? `${f(r.kendall_tau.value)} (${f(r.kendall_tau.ci95[0])} .. ${f(r.kendall_tau.ci95[1])})` : "";
  });
  const any = results.map((m) => m.get(row)).find(Boolean);
  console.log(`| ${row} | ${cells.join(" | ")} | ${training(any.supernet)} | ${Number(any.rank_seconds).toFixed(0)} s |`);
}
for (const [i, m] of results.entries()) {
  const seed = [...m.values()].find((r) => r.report.seed_tau)?.report.seed_tau;
  if (seed) console.log(`\n${files[i]}: the truth's own seed-to-seed tau (seeds ${seed.seeds.join(", ")}, ${seed.n} architectures): ${seed.value.toFixed(3)}`);
}
const ten = results[0].get("all-lr1-10ep");
if (ten) console.log(`\nBN, all-lr1-10ep, by epoch (${files[0]}): tau against the truth ${ten.report.truth_tau_by_epoch.map((e) => `${e.epoch}: ${f(e.tau)}`).join(", ")}; against the last epoch ${ten.report.rank_stability.map((e) => `${e.epoch}: ${f(e.tau)}`).join(", ")}`);
