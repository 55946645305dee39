/**
 * The op vocabulary: every op kind, registered from one explicit list. A lookup of an unknown
 * type fails naming it and listing what exists.
 */
import type { OpSpec } from "./spec.js";
import { asObject, asString, type JsonPath } from "../util/json.js";
import type { OpKind } from "./types.js";
import { mbconv } from "./mbconv.js";
import { conv } from "./conv.js";
import { dwsep } from "./dwsep.js";
import { skip } from "./skip.js";
import { pool } from "./pool.js";

const KINDS: readonly OpKind<never>[] = [mbconv, conv, dwsep, skip, pool] as unknown as OpKind<never>[];

const BY_TYPE = new Map<string, OpKind>();
for (const k of KINDS) for (const t of k.types) BY_TYPE.set(t, k as unknown as OpKind);

export const OP_TYPES: readonly string[] = [...BY_TYPE.keys()];

/** The op kind handling `op.type`. */
export function opKind(op: OpSpec): OpKind {
  const k = BY_TYPE.get(op.type);
  if (!k) throw new Error(`unknown op type '${op.type}' (known: ${OP_TYPES.join(", ")})`);
  return k;
}

/** Reads an op object from untrusted JSON. */
export function parseOp(raw: unknown, at: JsonPath): OpSpec {
  const obj = asObject(raw, at);
  if (obj.type === undefined) throw at.key("type").error(`is missing (one of: ${OP_TYPES.join(", ")})`);
  const type = asString(obj.type, at.key("type"));
  const kind = BY_TYPE.get(type);
  if (!kind) throw at.key("type").error(`unknown op '${type}' (known ops: ${OP_TYPES.join(", ")})`);
  return kind.parse(obj, at);
}

export type { OpKind, Emitted } from "./types.js";
export type { OpPlace, OpCost, Shape } from "./geometry.js";
