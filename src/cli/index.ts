/**
 * The bnnas command line. This file only wires commands (one file each in src/cli/) and maps
 * errors to exit codes; `main` never calls process.exit, so tests run it in-process.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { BnnasError, errorMessage } from "../errors.js";
import { processIO, type ConsoleIO } from "../util/io.js";
import { COMMANDS } from "./commands.js";

/** The package version: package.json is two levels above src/cli (tests) and three above dist/src/cli. */
function packageVersion(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const p = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (p.name === "bnnas" && p.version) return p.version;
    } catch {
      // not this level
    }
  }
  return "unknown";
}

export function buildProgram(io: ConsoleIO): Command {
  const program = new Command("bnnas")
    .version(packageVersion(), "-V, --version", "print the bnnas version")
    .description("BN-NAS on ONNX: export supernets, train their BatchNorms, score, search and extract subnets")
    .option("--debug", "print stack traces on errors")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showHelpAfterError(false);
  for (const register of COMMANDS) register(program, io);
  return program;
}

/** Runs bnnas with `argv` (without the node and script paths); resolves to the exit code. */
export async function main(argv: readonly string[], io: ConsoleIO = processIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (e) {
    return handleError(e, io, argv.includes("--debug"));
  }
}

/** The command-line spelling of a library option key: `weightDecay` -> `--weight-decay`. */
export function flagName(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export function handleError(e: unknown, io: ConsoleIO, debug: boolean): number {
  if (e instanceof CommanderError) {
    // commander already printed its message (help, version, or a usage error).
    return e.exitCode === 0 ? 0 : 2;
  }
  if (debug && e instanceof Error) io.stderr(`${e.stack}\n`);
  if (e instanceof BnnasError) {
    io.stderr(`bnnas: error: ${e.render ? e.render(flagName) : e.message}\n`);
    return e.exitCode;
  }
  io.stderr(`bnnas: internal error: ${errorMessage(e).split("\n")[0]}${debug ? "" : " (run with --debug for details)"}\n`);
  return 70;
}
