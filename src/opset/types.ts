/**
 * What bnnas knows about one ONNX op type, in one place (after tfjs-core's kernel + gradient
 * configs and the ONNX reference evaluator's one file per op): its shape rule, its cost, its
 * gradient rule and its node checks. Each op module exports one OpDef; registry.ts lists them.
 */
import type { Attr, GraphBuilder } from "../onnx/builder.js";
import type { AttributeProto, NodeProto } from "../onnx/proto.js";
import type { Tensor } from "../onnx/tensor.js";

/** A dim: a number, or a string for a symbolic dim (the dynamic batch). */
export type Dim = number | string;
export type Shape = Dim[];

/** What shape inference tracks per tensor: its shape and, for small integer tensors, their values. */
export interface TensorInfo {
  shape: Shape;
  /** Values of small integer tensors (shape arithmetic: Shape -> Gather -> Concat -> Reshape), row-major. */
  value?: number[];
}

/** A node whose output shape cannot be inferred; names the node, its op type and why. */
export class ShapeError extends Error {
  constructor(readonly node: string, readonly opType: string, readonly detail: string, readonly unknownOp = false) {
    super(`node '${node}' (${opType}): ${detail}`);
  }
}

/** What a shape rule sees of its node. */
export interface InferContext {
  readonly node: NodeProto;
  /** Shape (and values) of input k; throws a ShapeError when it is unknown. */
  input(k: number): TensorInfo;
  /** Shape of input k (as `input(k).shape`). */
  shape(k: number): Shape;
  /** The integer values of input k when they are known (a constant, or computed from shapes). */
  ints(k: number): number[] | undefined;
  /** The value of a constant tensor (an initializer or a Constant node's output), if it is one. */
  constant(tensor: string): Tensor | undefined;
  /** Throws a ShapeError naming this node. */
  fail(detail: string): never;
}

/** The shape rule: one entry per output (undefined where nothing is known). */
export type ShapeRule = (ctx: InferContext) => (TensorInfo | undefined)[];

/** What a cost rule sees: inferred shapes (numbers: counting runs with batch 1) and the graph around the node. */
export interface CostContext {
  readonly node: NodeProto;
  shape(tensor: string): number[];
  isInitializer(tensor: string): boolean;
  /** Op type of the node producing `tensor`, if a node does. */
  producerOp(tensor: string): string | undefined;
}

export interface NodeCost {
  /** Multiply-accumulates for one sample. */
  macs: number;
  /** Names of the parameter initializers this node uses (deduplicated by the caller). */
  params: string[];
}

export type CostRule = (ctx: CostContext) => NodeCost;

/** Per-op checks of untrusted files (model/check.ts runs them; a mismatch is a corrupt or hand-edited file). */
export interface OpChecks {
  /** Attribute types (AttrType) of the attributes bnnas reads. */
  attributes?: Readonly<Record<string, number>>;
  /** The attribute list above is complete: another attribute name is a corrupt file. */
  closedAttributes?: boolean;
  /** Range checks of one attribute; the problem without the node prefix. */
  attributeProblem?(a: AttributeProto): string | undefined;
  /** Input positions that must hold float tensors. */
  floatInputs?: readonly number[];
  /** Input positions that must hold int32/int64 tensors. */
  indexInputs?: readonly number[];
  /** All inputs must have one element type. */
  sameTypeInputs?: boolean;
  /** The element type of the node's (first) output given its inputs' types, enough to follow masks and data. */
  outputType?(node: NodeProto, inputType: (k: number) => number | undefined): number | undefined;
  /** outputType holds for every output (Split), not only the first. */
  typesAllOutputs?: boolean;
}

export interface GradContext {
  /** Where backward nodes are emitted. */
  readonly b: GraphBuilder;
  /** The forward node being differentiated. */
  readonly node: NodeProto;
  /** Static shape of a forward tensor. */
  shape(tensor: string): Shape;
  /** The value of a constant forward tensor (initializer or Constant), if it is one. */
  constant(tensor: string): Tensor | undefined;
  /** A float scalar initializer (shared per value). */
  scalar(value: number): string;
  /** A 1-D int64 initializer (shared per value list). */
  ints(values: readonly number[]): string;
  /** Emits a node whose name derives from the forward node's name; returns its single output. */
  op(opType: string, inputs: readonly string[], attrs?: Record<string, Attr>, hint?: string): string;
}

/** Thunks keyed by input position; each emits the gradient of that input and returns its name. */
export type GradThunks = Partial<Record<number, () => string>>;

/**
 * The shape of one gradient rule (after TF.js's `{kernelName, inputsToSave, gradFunc}`): a rule
 * names the ONNX op types it differentiates, the forward tensors its gradient reads, and a
 * function returning one thunk per differentiable input. The backward builder calls only the
 * thunks of inputs that need a gradient, so e.g. frozen conv weights never get a gradient node.
 *
 * Rules return the gradient in the *output's* shape where the op broadcasts (Add, Mul, ...):
 * undoing broadcasting is done once, by the builder (autodiff/backward.ts).
 */
export interface GradRule {
  /** ONNX op types (default domain) this rule differentiates. */
  opTypes: readonly string[];
  /** Input positions whose forward values the gradient reads. */
  inputsToSave: readonly number[];
  /** Output positions whose forward values the gradient reads. */
  outputsToSave: readonly number[];
  /** True for numpy-broadcasting ops: thunks return gradients in the output's shape and the builder sums them down. */
  broadcasts?: boolean;
  /** For broadcasting ops whose input gradient is not in the output's shape (MatMul's batch dims): the shape the thunk returns. */
  gradShape?(ctx: GradContext, input: number): Shape;
  /** Input positions that can never carry a gradient (indices, shapes, axes). */
  nonDifferentiable?: readonly number[];
  /** dys[k] is the gradient of output k (undefined if nothing downstream needs it). */
  gradFunc(ctx: GradContext, dys: readonly (string | undefined)[]): GradThunks;
}

/** Everything bnnas knows about the op types it lists. */
export interface OpDef {
  /** ONNX op types (default domain) this module describes; they share every aspect below. */
  opTypes: readonly string[];
  infer: ShapeRule;
  /** Absent: the op has no MACs and no parameters. */
  cost?: CostRule;
  /** Absent: bnnas cannot differentiate the op. */
  grad?: GradRule;
  checks?: OpChecks;
}
