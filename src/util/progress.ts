/**
 * Progress for long work: a redrawn bar on a TTY, plain lines otherwise (at most one every
 * `plainEveryMs`), always on stderr so stdout stays clean for --json.
 */
import type { ConsoleIO } from "./io.js";

export interface ProgressOptions {
  label: string;
  total: number;
  /** Silence (e.g. --quiet). */
  quiet?: boolean;
  plainEveryMs?: number;
  /** The clock in ms (default Date.now); tests pass a fake one so rates and throttling do not depend on how fast they run. */
  now?: () => number;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

export class Progress {
  private readonly now: () => number;
  private readonly start: number;
  /** When the last plain line was printed (-Infinity: never, so the first update always prints). */
  private lastPlain = -Infinity;
  /** The count the last plain line showed (-1: none yet), so finish() does not repeat it. */
  private lastPlainDone = -1;
  private done = 0;
  constructor(private readonly io: ConsoleIO, private readonly options: ProgressOptions) {
    this.now = options.now ?? Date.now;
    this.start = this.now();
  }

  /** Reports `done` of `total` units, with extra fields such as loss or accuracy. */
  update(done: number, fields: Record<string, string | number> = {}): void {
    this.render(done, fields, false);
  }

  private render(done: number, fields: Record<string, string | number>, force: boolean): void {
    this.done = done;
    if (this.options.quiet) return;
    const elapsed = (this.now() - this.start) / 1000;
    // Too soon after the start, a rate would be noise (or a division by ~0): show "?" instead.
    const rate = elapsed >= 0.05 ? done / elapsed : NaN;
    const eta = done >= this.options.total ? 0 : (this.options.total - done) / rate;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${typeof v === "number" ? (Number.isInteger(v) ? v : v.toFixed(4)) : v}`)
      .join("  ");
    const counts = `${done}/${this.options.total}`;
    const tail = `${extra}${extra ? "  " : ""}${Number.isFinite(rate) ? rate.toFixed(1) : "?"}/s  ETA ${formatSeconds(eta)}`;
    if (this.io.isTTY) {
      const width = 24;
      const filled = Math.round((width * done) / Math.max(1, this.options.total));
      const bar = "#".repeat(filled) + "-".repeat(width - filled);
      this.io.stderr(`\r\x1b[2K${this.options.label} [${bar}] ${counts}  ${tail}`);
    } else {
      const now = this.now();
      if (!force && now - this.lastPlain < (this.options.plainEveryMs ?? 2000) && done < this.options.total) return;
      this.lastPlain = now;
      this.lastPlainDone = done;
      this.io.stderr(`${this.options.label} ${counts}  ${tail}\n`);
    }
  }

  /** Shows the final state once: redraws the bar (TTY), or prints the last count unless a line already showed it. */
  finish(fields: Record<string, string | number> = {}): void {
    if (this.options.quiet) return;
    if (!this.io.isTTY && this.lastPlainDone === this.done) return;
    this.render(this.done, fields, true);
    if (this.io.isTTY) this.io.stderr("\n");
  }
}

/**
 * A Progress created on the first report, for work whose total is only known once it starts
 * (a training run's steps, an evaluation's images, a truth table's runs): callbacks report
 * (done, total), and `finish` shows the final state once, however often it is called.
 */
export class LazyProgress {
  private bar: Progress | undefined;
  private last: Record<string, string | number> = {};
  private finished = false;

  constructor(private readonly io: ConsoleIO, private readonly label: string, private readonly quiet?: boolean, private readonly now?: () => number) {}

  update(done: number, total: number, fields: Record<string, string | number> = {}): void {
    this.bar ??= new Progress(this.io, { label: this.label, total, quiet: this.quiet, now: this.now });
    this.last = fields;
    this.bar.update(done, fields);
  }

  finish(): void {
    if (this.finished || !this.bar) return;
    this.finished = true;
    this.bar.finish(this.last);
  }
}

