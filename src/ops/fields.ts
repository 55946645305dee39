/** Field readers shared by the op files (kernel sizes, activations). */
import { asInt, asString, type JsonObject, type JsonPath } from "../util/json.js";
import type { Activation } from "./spec.js";

export const MAX_KERNEL = 15;

/** An odd kernel size: padding k//2 then keeps the spatial size at stride 1, as every op here assumes. */
export function kernelField(raw: JsonObject, at: JsonPath, fallback?: number): number {
  if (raw.k === undefined && fallback !== undefined) return fallback;
  if (raw.k === undefined) throw at.key("k").error("is missing (the kernel size, an odd number such as 3, 5 or 7)");
  const k = asInt(raw.k, at.key("k"), 1, MAX_KERNEL);
  if (k % 2 === 0) throw at.key("k").error(`must be odd (padding k//2 keeps the size), not ${k}`);
  return k;
}

export function activationField(raw: JsonObject, at: JsonPath, fallback: Activation): Activation {
  if (raw.act === undefined) return fallback;
  return asString(raw.act, at.key("act"), /^(relu|relu6|none)$/, "must be one of relu, relu6, none") as Activation;
}

export function checkKeys(raw: JsonObject, at: JsonPath, keys: readonly string[]): void {
  for (const k of Object.keys(raw)) if (!keys.includes(k)) throw at.key(k).error(`unknown field for op '${String(raw.type)}' (expected: ${keys.join(", ")})`);
}

/** The fields conv and dwsep share: an odd kernel `k` and an activation `act` (default relu). */
export function kernelActFields(raw: JsonObject, at: JsonPath): { k: number; act: Activation } {
  checkKeys(raw, at, ["type", "k", "act"]);
  return { k: kernelField(raw, at), act: activationField(raw, at, "relu") };
}
