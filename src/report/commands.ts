/**
 * "Which command made this file": the demo records its stages' commands; otherwise each file's
 * own record says how it was made (a supernet's manifest its space and seed and its training, a
 * subnet's manifest its source and architecture and its retraining), and the command is rebuilt
 * from that record, flag by flag.
 */
import { basename, dirname } from "node:path";
import { formatArch } from "../structure/arch.js";
import type { ReportInputs } from "./inputs.js";

export interface CommandRow {
  file: string;
  command: string;
  /** "the demo ran it" or "rebuilt from the file's record". */
  how: string;
}

const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
/** Records name the IDX images file read; --data takes its folder. */
const dataDir = (source: string) => (/-idx\d-ubyte(\.gz)?$/.test(source) ? dirname(source) : source);
const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** `bnnas train` as the record says it ran (steps rather than epochs when the run ended mid-epoch). */
export function trainCommand(record: Record<string, unknown>, output: string): string {
  const input = String(record.supernet ?? record.subnet ?? "MODEL");
  const a: string[] = ["train", input, "-o", basename(output)];
  if (record.weights) a.push("--weights", String(record.weights));
  if (record.reinit === true) a.push("--reinit");
  if (num(record.epochs) && Number.isInteger(record.epochs)) a.push("--epochs", String(record.epochs));
  else if (num(record.steps)) a.push("--steps", String(record.steps));
  if (num(record.batch)) a.push("--batch", String(record.batch));
  if (num(record.lr)) a.push("--lr", String(record.lr));
  if (record.lrSchedule) a.push("--lr-schedule", String(record.lrSchedule));
  if (num(record.warmup) && record.warmup > 0) a.push("--warmup", String(record.warmup));
  if (num(record.momentum)) a.push("--momentum", String(record.momentum));
  if (record.nesterov === true) a.push("--nesterov");
  if (num(record.weightDecay) && record.weightDecay > 0) a.push("--weight-decay", String(record.weightDecay));
  if (record.weightDecayBn === true) a.push("--weight-decay-bn");
  if (num(record.labelSmoothing) && record.labelSmoothing > 0) a.push("--label-smoothing", String(record.labelSmoothing));
  if (num(record.clip)) a.push("--clip", String(record.clip));
  if (record.augment === true) a.push("--augment");
  if (record.supernet !== undefined) {
    if (record.sampler && record.sampler !== "fixed") a.push("--sampler", String(record.sampler));
    if (record.bn) a.push("--bn", String(record.bn));
    if (record.trainHead === true) a.push("--train-head");
  }
  if (Array.isArray(record.arch)) a.push("--arch", formatArch(record.arch as number[]));
  if (num(record.seed)) a.push("--seed", String(record.seed));
  const data = record.data as { source?: unknown; holdout?: unknown } | undefined;
  if (typeof data?.source === "string") a.push("--data", dataDir(data.source));
  if (num(data?.holdout) && data.holdout > 0) a.push("--holdout", String(data.holdout));
  return `bnnas ${a.map(quote).join(" ")}`;
}

export function commandRows(inputs: ReportInputs): CommandRow[] {
  if (inputs.demo) return inputs.demo.stages.map((s) => ({ file: s.name, command: s.command, how: `the demo ran it (${s.seconds.toFixed(1)} s)` }));
  const rows: CommandRow[] = [];
  const rebuilt = "rebuilt from the file's record";
  const s = inputs.supernet;
  if (s?.loaded.manifest) {
    const m = s.loaded.manifest;
    const exported = String(s.training?.record.supernet ?? basename(s.file));
    rows.push({ file: exported, command: `bnnas export-supernet --space ${quote(m.space.name)} --seed ${m.seed}${m.unbiased ? " --unbiased" : ""} -o ${quote(exported)}`, how: rebuilt });
  }
  if (s?.training) rows.push({ file: basename(s.file), command: trainCommand(s.training.record, s.file), how: rebuilt });
  const search = inputs.search;
  if (search && s) {
    for (const run of search.runs) {
      const c = run.constraints;
      const limits = [c.maxMacs !== undefined ? `--max-macs ${c.maxMacs}` : "", c.minMacs !== undefined ? `--min-macs ${c.minMacs}` : "", c.maxParams !== undefined ? `--max-params ${c.maxParams}` : ""].filter(Boolean).join(" ");
      rows.push({ file: basename(search.file), command: `bnnas score-onnx ${quote(basename(s.file))} --search ${run.strategy}${limits ? ` ${limits}` : ""} --json`, how: rebuilt });
    }
  }
  const sub = inputs.subnet;
  if (sub?.manifest) {
    const m = sub.manifest;
    const extracted = String(sub.retraining[0]?.record.subnet ?? basename(sub.file));
    rows.push({ file: extracted, command: `bnnas extract-subnet ${quote(m.source.file)} --arch ${formatArch(m.arch)}${m.batchNorm === "folded" ? " --fold-bn" : ""} -o ${quote(extracted)}`, how: rebuilt });
    sub.retraining.forEach((r) => rows.push({ file: basename(sub.file), command: trainCommand(r.record, sub.file), how: rebuilt }));
  }
  const ev = inputs.eval;
  if (ev) rows.push({ file: basename(ev.file), command: `bnnas eval ${quote(ev.model ?? "MODEL")}${ev.data ? ` --data ${quote(dataDir(ev.data))}` : ""} --json`, how: "rebuilt from the eval output" });
  return rows;
}
