/**
 * Checked reads from untrusted JSON, each failure a SpaceError carrying the JSON path of the
 * problem (`layers[3].allowed[1]`), so a user can find it in their file.
 */
import { SpaceError } from "../errors.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: unknown };

/** Where we are in the document (path) and which file it came from (for messages). */
export class JsonPath {
  constructor(readonly path: string, readonly file?: string) {}

  key(k: string): JsonPath {
    return new JsonPath(this.path ? `${this.path}.${k}` : k, this.file);
  }

  index(i: number): JsonPath {
    return new JsonPath(`${this.path}[${i}]`, this.file);
  }

  error(detail: string): SpaceError {
    return new SpaceError(this.path, detail, this.file);
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

export function asObject(v: unknown, at: JsonPath, allowedKeys?: readonly string[]): JsonObject {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw at.error(`must be an object, not ${describe(v)}`);
  if (allowedKeys) {
    for (const k of Object.keys(v)) {
      if (!allowedKeys.includes(k)) throw at.key(k).error(`unknown field (expected one of: ${allowedKeys.join(", ")})`);
    }
  }
  return v as JsonObject;
}

export function asArray(v: unknown, at: JsonPath, minLength = 0, maxLength = Infinity): unknown[] {
  if (!Array.isArray(v)) throw at.error(`must be an array, not ${describe(v)}`);
  if (v.length < minLength) throw at.error(`must have at least ${minLength} entr${minLength === 1 ? "y" : "ies"}`);
  if (v.length > maxLength) throw at.error(`has ${v.length} entries; at most ${maxLength} are allowed`);
  return v;
}

export function asString(v: unknown, at: JsonPath, pattern?: RegExp, patternHelp?: string): string {
  if (typeof v !== "string") throw at.error(`must be a string, not ${describe(v)}`);
  if (pattern && !pattern.test(v)) throw at.error(`${JSON.stringify(v)} is not allowed: ${patternHelp ?? `must match ${pattern}`}`);
  return v;
}

export function asInt(v: unknown, at: JsonPath, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw at.error(`must be a whole number from ${min} to ${max}, not ${describe(v)}`);
  if (v < min || v > max) throw at.error(`must be from ${min} to ${max}, not ${v}`);
  return v;
}

export function asNumber(v: unknown, at: JsonPath, min = -Infinity, max = Infinity, exclusiveMin = false): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw at.error(`must be a finite number, not ${describe(v)}`);
  if (v < min || v > max || (exclusiveMin && v === min)) {
    throw at.error(`must be ${exclusiveMin ? "greater than" : "at least"} ${min}${max < Infinity ? ` and at most ${max}` : ""}, not ${v}`);
  }
  return v;
}

export function optional<T>(obj: JsonObject, key: string, at: JsonPath, read: (v: unknown, at: JsonPath) => T): T | undefined {
  return obj[key] === undefined ? undefined : read(obj[key], at.key(key));
}

export function required<T>(obj: JsonObject, key: string, at: JsonPath, read: (v: unknown, at: JsonPath) => T): T {
  if (obj[key] === undefined) throw at.key(key).error("is missing");
  return read(obj[key], at.key(key));
}
