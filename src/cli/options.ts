/** Parsers for option values, with errors that quote the option. */
import { UsageError } from "../errors.js";

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
