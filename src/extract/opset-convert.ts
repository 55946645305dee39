/**
 * Writing a model at another opset of the default ONNX domain: every node is rewritten into the
 * form that opset defines (opset-forms.ts holds the per-op knowledge), the opset import and the
 * IR version are set to that opset's, and initializers only the old forms read are dropped.
 * The function computed is the same; a node that cannot be expressed at the target gets an error
 * naming it and the lowest opset that works.
 */
import type { ModelProto, NodeProto, TensorProto } from "../onnx/proto.js";
import { GraphIndex } from "../onnx/graph.js";
import { inferTensors } from "../opset/infer.js";
import type { TensorInfo } from "../opset/types.js";
import { BnnasError } from "../errors.js";
import { pruneGraph } from "./prune.js";
import { IR_FOR_OPSET, opForms, type FormContext } from "./opset-forms.js";

/** The opsets `extract-subnet --opset` writes. */
export const MIN_OPSET = 10;
export const MAX_OPSET = 17;

/** A node that cannot be written at the requested opset. */
export class OpsetConversionError extends BnnasError {
  constructor(
    readonly node: string,
    readonly opType: string,
    readonly target: number,
    detail: string,
    /** The lowest opset that can express the node (undefined: no opset bnnas writes can). */
    readonly lowest?: number,
    file?: string,
  ) {
    super(
      (o) =>
        `${file ? `${file}: ` : ""}node '${node}' (${opType}) cannot be written at opset ${target}: ${detail}` +
        (lowest !== undefined ? `; the lowest opset that works is ${lowest} (pass ${o("opset")} ${lowest} or higher)` : ""),
      2,
    );
  }
}

/** The model's opset of the default domain ("" or "ai.onnx"); 1 when it imports none (as the spec says). */
export function modelOpset(model: ModelProto): number {
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === "ai.onnx");
  return entry ? Number(entry.version) : 1;
}

export interface OpsetConversion {
  from: number;
  to: number;
  /** Nodes whose form changed. */
  rewritten: number;
}

const label = (n: NodeProto) => n.name || n.output[0] || n.opType;

/**
 * Rewrites `model` in place to opset `target` of the default domain (see the file comment).
 * A model already at `target` is left as it is.
 */
export function convertOpset(model: ModelProto, target: number, file?: string): OpsetConversion {
  const graph = model.graph!;
  const from = modelOpset(model);
  let rewritten = 0;
  if (from !== target) {
    const index = new GraphIndex(graph);
    let infos: Map<string, TensorInfo> = new Map();
    try {
      infos = inferTensors(graph);
    } catch {
      // Ranks then come from initializers only; rewrites that need one say so.
      for (const t of graph.initializer) infos.set(t.name, { shape: t.dims.map(Number) });
    }
    const taken = new Set<string>([...graph.initializer.map((t) => t.name), ...graph.input.map((i) => i.name), ...graph.node.flatMap((n) => n.output)]);
    const added: TensorProto[] = [];
    for (const node of graph.node) {
      const fail = (detail: string, lowest?: number): never => {
        throw new OpsetConversionError(label(node), node.opType, target, detail, lowest, file);
      };
      if (node.domain && node.domain !== "ai.onnx") fail(`it is in domain '${node.domain}', not standard ONNX, and bnnas cannot tell its form at another opset`);
      const forms = opForms(node.opType);
      if (!forms) fail(`bnnas has no record of how ${node.opType}'s form differs between opsets; keep the model at opset ${from}`);
      if (target < forms!.since) fail(`${node.opType} exists from opset ${forms!.since}`, forms!.since);
      const ctx: FormContext = {
        node,
        constant: (t) => index.constant(t),
        rank: (t) => infos.get(t)?.shape.length,
        shape: (t) => {
          const s = infos.get(t)?.shape;
          return s && s.every((d) => typeof d === "number") ? (s as number[]) : undefined;
        },
        addInitializer: (hint, make) => {
          let name = hint;
          for (let i = 1; taken.has(name); i++) name = `${hint}_${i}`;
          taken.add(name);
          const t = make(name);
          added.push(t);
          return name;
        },
      };
      const before = JSON.stringify([node.input, node.attribute]);
      const changes = (forms!.changes ?? []).filter((c) => (target < from ? target < c.at && c.at <= from : from < c.at && c.at <= target));
      if (target < from) {
        for (const c of [...changes].sort((a, b) => b.at - a.at)) {
          if (!c.down) fail(`the form with ${c.what} (opset ${c.at}) has no older equivalent`, c.at);
          const problem = c.down!(ctx);
          if (problem) fail(problem, c.at);
        }
      } else {
        for (const c of [...changes].sort((a, b) => a.at - b.at)) {
          const problem = c.up?.(ctx);
          if (problem) fail(`${problem} (the form with ${c.what} arrived at opset ${c.at}); the highest opset that works is ${c.at - 1}`);
        }
      }
      if (JSON.stringify([node.input, node.attribute]) !== before) rewritten++;
    }
    graph.initializer.push(...added);
    // Initializers and Constant nodes only the old forms read (Clip's shared min/max) go.
    pruneGraph(graph);
  }
  if (from === target) return { from, to: target, rewritten };
  // An entry copied by spreading has lost protobufjs's prototype default: no domain is the default domain.
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === "ai.onnx");
  if (entry) entry.version = target;
  else model.opsetImport.push({ domain: "", version: target });
  model.irVersion = IR_FOR_OPSET[target] ?? model.irVersion;
  return { from, to: target, rewritten };
}
