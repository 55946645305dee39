/**
 * Built-in spaces (models/<name>.json, shipped with the package) and loading a space by name or
 * from a user's JSON file.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputFileError, SpaceError } from "../errors.js";
import type { SpaceSpec } from "./spec.js";
import { validateSpace } from "./validate.js";

export const BUILTIN_SPACES = ["fmnist-small", "bnnas-mbv2"] as const;
export type BuiltinSpace = (typeof BUILTIN_SPACES)[number];

/** models/ of the package: found upward from this module (src/space in tests, dist/src/space when installed). */
export function modelsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "models");
    if (existsSync(join(candidate, `${BUILTIN_SPACES[0]}.json`))) return candidate;
    dir = dirname(dir);
  }
  throw new Error("the built-in spaces (models/*.json) are missing from the bnnas installation");
}

export function builtinSpace(name: BuiltinSpace): SpaceSpec {
  const file = join(modelsDir(), `${name}.json`);
  return validateSpace(JSON.parse(readFileSync(file, "utf8")), file);
}

/** Reads and validates a space file (JSON). */
export function readSpaceFile(file: string): SpaceSpec {
  let text: string;
  try {
    if (statSync(file).isDirectory()) throw new InputFileError(file, "is a directory, not a space file");
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof InputFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputFileError(file, code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SpaceError("", `is not valid JSON (${(e as Error).message})`, file);
  }
  return validateSpace(raw, file);
}

/**
 * `--space NAME|FILE`: a built-in name, or a path to a JSON file (anything with a path separator
 * or a .json ending). An unknown name lists the built-ins.
 */
export function loadSpace(nameOrFile: string): SpaceSpec {
  if ((BUILTIN_SPACES as readonly string[]).includes(nameOrFile)) return builtinSpace(nameOrFile as BuiltinSpace);
  if (/[\\/]/.test(nameOrFile) || nameOrFile.endsWith(".json") || existsSync(nameOrFile)) return readSpaceFile(nameOrFile);
  throw new SpaceError("", `unknown space '${nameOrFile}': use a built-in (${BUILTIN_SPACES.join(", ")}) or the path of a space JSON file`);
}
