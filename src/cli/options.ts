/** Parsers for option values, with errors that quote the option; options shared by several commands. */
import { resolve } from "node:path";
import { statSync } from "node:fs";
import { Option, type Command } from "commander";
import { DATA_FORMATS, type DataFormat, type DataOptions } from "../data/load.js";
import type { ConsoleIO } from "../util/io.js";
import { LazyProgress } from "../util/progress.js";
import { UsageError } from "../errors.js";
import type { Device } from "../runtime/ort.js";
import type { ProxyOptions } from "../proxy/proxy-options.js";

export function intOption(name: string, min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const v = Number(value);
    if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(v) || v < min || v > max) {
      const range = min > -Infinity && max < Infinity ? ` from ${min} to ${max}` : min > -Infinity ? ` >= ${min}` : "";
      throw new UsageError(`${name} takes a whole number${range}, not '${value}'`);
    }
    return v;
  };
}

export function floatOption(name: string, min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const v = Number(value);
    if (value.trim() === "" || !Number.isFinite(v) || v < min || v > max) {
      throw new UsageError(`${name} takes a number${min > -Infinity ? ` >= ${min}` : ""}${max < Infinity ? ` <= ${max}` : ""}, not '${value}'`);
    }
    return v;
  };
}

export function choiceOption<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw new UsageError(`${name} must be one of ${choices.join(", ")}, not '${value}'`);
    return value as T;
  };
}

/** A count like `475000000`, `475M`, `3.4e6` or `600K` (score-onnx limits, demo budget). */
export function countOption(name: string) {
  return (value: string): number => {
    const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kKmMgG]?)\s*$/.exec(value);
    const scale = { "": 1, k: 1e3, m: 1e6, g: 1e9 }[(m?.[2] ?? "").toLowerCase() as "k"];
    const v = m ? Math.round(Number(m[1]) * scale) : NaN;
    if (!Number.isSafeInteger(v) || v < 0) throw new UsageError(`${name} takes a count such as 475000000, 475M or 600K, not '${value}'`);
    return v;
  };
}

const DEVICES: readonly Device[] = ["cpu", "cuda"];

/** `--device`, one definition for the commands that run onnxruntime (train, eval, serve). */
export function deviceOption(): Option {
  return new Option("--device <d>", "cpu or cuda").argParser(choiceOption("--device", DEVICES)).default("cpu");
}

/** `--threads`, one range for the commands that run onnxruntime; `flags` keeps each command's placeholder. */
export function threadsOption(flags: string, description = "onnxruntime intra-op threads (default: all cores)"): Option {
  return new Option(flags, description).argParser(intOption("--threads", 1, 1024));
}

/**
 * Refuses `-o` naming the input itself, by path or by inode (a hard link or symlink to it):
 * writing the output would replace the file being read.
 */
export function checkOutputIsNotInput(input: string, output: string): void {
  const same = (): boolean => {
    if (resolve(input) === resolve(output)) return true;
    const si = statSync(input, { throwIfNoEntry: false });
    const so = statSync(output, { throwIfNoEntry: false });
    return Boolean(si && so && si.ino === so.ino && si.dev === so.dev);
  };
  if (same()) throw new UsageError(`-o ${output} is the supernet itself; choose another output file`);
}

/** The data flags of commands that read images (train, eval, bench truth, demo). */
export interface DataFlags {
  data?: string;
  dataFormat?: DataFormat;
  cacheDir?: string;
  strict?: boolean;
}

/**
 * Adds --data, --data-format, --cache-dir and --strict to `cmd`, one definition for every
 * command that reads data; `dataHelp` says what the command does with it.
 */
export function addDataOptions(cmd: Command, dataHelp: string, defaultHelp = "/usr/share/datasets/fashion-mnist if installed, else the Fashion-MNIST subset shipped with bnnas"): Command {
  return cmd
    .option("--data <dir>", `${dataHelp}: MNIST-style IDX files, CIFAR-10/100 binary files, or image folders (train/<class>/*.png|jpg, val/ or test/); default: ${defaultHelp}`)
    .option("--data-format <f>", `read --data as ${DATA_FORMATS.join(", ")} instead of detecting it`, choiceOption("--data-format", DATA_FORMATS))
    .option("--cache-dir <dir>", "where decoded images are cached (default: $XDG_CACHE_HOME/bnnas or ~/.cache/bnnas; never the data folder)")
    .option("--strict", "stop at an unreadable image or at mixed grayscale/colour images instead of skipping or converting them with a note");
}

/** The library's data options from the flags; notes go to stderr unless quiet, decoding shows progress. */
export function dataOptions(opts: DataFlags & { quiet?: boolean }, io: ConsoleIO): DataOptions & { finish(): void } {
  const decoding = new LazyProgress(io, "decode", opts.quiet);
  return {
    format: opts.dataFormat,
    cacheDir: opts.cacheDir,
    strict: Boolean(opts.strict),
    onNote: (text) => {
      decoding.finish();
      if (!opts.quiet) io.stderr(`${text}\n`);
    },
    onProgress: (done, total) => decoding.update(done, total),
    finish: () => decoding.finish(),
  };
}

/** What addProxyOptions declares (with --device and --threads, which each command adds itself). */
export interface ProxyFlags {
  data?: string;
  proxyBatch: number;
  oneshotImages: number;
  device: Device;
  threads?: number;
}

/** The data and sizes of the indicators that run paths (the zero-cost proxies, oneshot): score-onnx and bench rank. */
export function addProxyOptions(cmd: Command): Command {
  return cmd
    .option("--data <dir>", "training images for the minibatch proxies (snip, grad_norm, naswot) and oneshot; default as train's")
    .option("--proxy-batch <n>", "minibatch size of the proxies", intOption("--proxy-batch", 2, 4096), 64)
    .option("--oneshot-images <n>", "held-out images oneshot evaluates each path on", intOption("--oneshot-images", 1), 2000);
}

/** addProxyOptions' flags as the indicator registry takes them; data notes go to stderr. */
export function proxyOptions(opts: ProxyFlags, io: ConsoleIO, onEvaluated: (count: number) => void): ProxyOptions {
  return {
    data: opts.data, batch: opts.proxyBatch, oneshotImages: opts.oneshotImages, device: opts.device, threads: opts.threads,
    dataOptions: { onNote: (text) => io.stderr(`${text}\n`) },
    onEvaluated,
  };
}
