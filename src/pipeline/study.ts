/**
 * The committed recipe study of a built-in space (bench/<space>/results.jsonl, README "How far to
 * trust the ranking"): one `bench rank --json` report per indicator and supernet recipe against
 * the space's truth table. The demo quotes the row of the recipe and indicator it used, so the
 * user sees next to the chosen architecture how far that ranking agreed with trained accuracy.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export interface StudyVerdict {
  /** The study row quoted, e.g. `all-lr1-3ep`. */
  row: string;
  /** What the row measured, where it differs from what was asked (e.g. fewer epochs). */
  note: string;
  /** Kendall tau of the row's indicator against the truth, with its bootstrap 95% interval. */
  tau: number;
  ci95: [number, number];
  /** Architectures in the truth table, and the truth's own seed-to-seed tau (its ceiling). */
  n: number;
  seed_tau: number | null;
  /** The results file, relative to the package. */
  file: string;
}

/** A supernet training recipe and indicator, as the demo runs them. */
export interface StudyQuery {
  space: string;
  indicator: string;
  bn: "last" | "all";
  lr: number;
  labelSmoothing: number;
  epochs: number;
}

/** The study rows of BN recipes (supernets.sh): name, and the recipe it trained. */
const BN_ROWS = [
  { row: "paper-last-lr0.1-3ep", bn: "last", lr: 0.1, labelSmoothing: 0, epochs: 3 },
  { row: "all-lr1-1ep", bn: "all", lr: 1, labelSmoothing: 0.1, epochs: 1 },
  { row: "all-lr1-3ep", bn: "all", lr: 1, labelSmoothing: 0.1, epochs: 3 },
  { row: "all-lr1-10ep", bn: "all", lr: 1, labelSmoothing: 0.1, epochs: 10 },
] as const;

/** bench/ of the package, found upward from this module (src/pipeline in tests, dist/src/pipeline when installed). */
function benchDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "bench"))) return join(dir, "bench");
    dir = dirname(dir);
  }
  return null;
}

/**
 * The study's verdict for `q`: for the BN indicator, the row of the same recipe with the nearest
 * epoch count; for other indicators (scored at initialisation), their own row. Null when the
 * space has no committed study or the recipe has no row.
 */
export function studyVerdict(q: StudyQuery): StudyVerdict | null {
  const bench = benchDir();
  if (!bench) return null;
  const file = join(bench, q.space, "results.jsonl");
  if (!existsSync(file)) return null;
  let row: string = q.indicator;
  let note = "";
  if (q.indicator === "bn") {
    const same = BN_ROWS.filter((r) => r.bn === q.bn && r.lr === q.lr && r.labelSmoothing === q.labelSmoothing);
    if (same.length === 0) return null;
    const nearest = same.reduce((a, b) => (Math.abs(b.epochs - q.epochs) < Math.abs(a.epochs - q.epochs) ? b : a));
    row = nearest.row;
    if (nearest.epochs !== q.epochs) note = `the study trained ${nearest.epochs} epochs, not ${q.epochs}`;
  }
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const r = JSON.parse(line) as { row: string; report: { n: number; kendall_tau: { value: number; ci95: [number, number] }; seed_tau?: { value: number } | null } };
    if (r.row !== row) continue;
    return { row, note, tau: r.report.kendall_tau.value, ci95: r.report.kendall_tau.ci95, n: r.report.n, seed_tau: r.report.seed_tau?.value ?? null, file: relative(dirname(bench), file) };
  }
  return null;
}
