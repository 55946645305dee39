/** `--mean/--std` for models without a bnnas manifest (eval, serve, extract-subnet of foreign files). */
import { UsageError } from "../errors.js";
import type { Normalization } from "../structure/normalization.js";

export interface NormalizationFlags {
  mean?: string;
  std?: string;
}

function numbers(flag: string, text: string): number[] {
  const values = text.split(",").map((s) => s.trim());
  return values.map((v) => {
    const n = Number(v);
    if (v === "" || !Number.isFinite(n)) throw new UsageError(`${flag} takes comma-separated numbers (one per channel, or one for all), not '${text}'`);
    return n;
  });
}

/** The normalisation given on the command line, or undefined when neither flag is given. */
export function normalizationOptions(opts: NormalizationFlags): Normalization | undefined {
  if (opts.mean === undefined && opts.std === undefined) return undefined;
  if (opts.mean === undefined || opts.std === undefined) throw new UsageError("--mean and --std go together (x = (p / 255 - mean) / std)");
  const mean = numbers("--mean", opts.mean);
  const std = numbers("--std", opts.std);
  if (std.some((s) => !(s > 0))) throw new UsageError(`--std values must be > 0, not '${opts.std}'`);
  if (mean.length !== std.length && mean.length !== 1 && std.length !== 1) throw new UsageError(`--mean has ${mean.length} values but --std has ${std.length}`);
  return { mean, std };
}
