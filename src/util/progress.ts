/**
 * Progress for long work: a redrawn bar on a TTY, plain lines otherwise (at most one every
 * `plainEveryMs`), always on stderr so stdout stays clean for --json.
 */
import type { CliIO } from "../cli/context.js";

export interface ProgressOptions {
  label: string;
  total: number;
  /** Silence (e.g. --quiet). */
  quiet?: boolean;
  plainEveryMs?: number;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

export class Progress {
  private readonly start = Date.now();
  private lastPlain = 0;
  private done = 0;
  constructor(private readonly io: CliIO, private readonly options: ProgressOptions) {}

  /** Reports `done` of `total` units, with extra fields such as loss or accuracy. */
  update(done: number, fields: Record<string, string | number> = {}): void {
    this.done = done;
    if (this.options.quiet) return;
    const elapsed = (Date.now() - this.start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = (this.options.total - done) / rate;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${typeof v === "number" ? (Number.isInteger(v) ? v : v.toFixed(4)) : v}`)
      .join("  ");
    const counts = `${done}/${this.options.total}`;
    const tail = `${extra}${extra ? "  " : ""}${rate.toFixed(1)}/s  ETA ${formatSeconds(eta)}`;
    if (this.io.isTTY) {
      const width = 24;
      const filled = Math.round((width * done) / Math.max(1, this.options.total));
      const bar = "#".repeat(filled) + "-".repeat(width - filled);
      this.io.stderr(`\r\x1b[2K${this.options.label} [${bar}] ${counts}  ${tail}`);
    } else {
      const now = Date.now();
      if (now - this.lastPlain < (this.options.plainEveryMs ?? 2000) && done < this.options.total) return;
      this.lastPlain = now;
      this.io.stderr(`${this.options.label} ${counts}  ${tail}\n`);
    }
  }

  finish(fields: Record<string, string | number> = {}): void {
    if (this.options.quiet) return;
    this.update(this.done, fields);
    if (this.io.isTTY) this.io.stderr("\n");
  }
}
