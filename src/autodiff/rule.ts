/**
 * The shape of one gradient rule (after TF.js's `{kernelName, inputsToSave, gradFunc}`): a rule
 * names the ONNX op types it differentiates, the forward tensors its gradient reads, and a
 * function returning one thunk per differentiable input. The backward builder calls only the
 * thunks of inputs that need a gradient, so e.g. frozen conv weights never get a gradient node.
 *
 * Rules return the gradient in the *output's* shape where the op broadcasts (Add, Mul, ...):
 * undoing broadcasting is done once, by the builder (see backward.ts).
 */
import type { GraphBuilder } from "../onnx/builder.js";
import type { NodeProto } from "../onnx/proto.js";
import type { Tensor } from "../onnx/tensor.js";
import type { Shape } from "./shapes.js";

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
  op(opType: string, inputs: readonly string[], attrs?: Record<string, import("../onnx/builder.js").Attr>, hint?: string): string;
}

/** Thunks keyed by input position; each emits the gradient of that input and returns its name. */
export type GradThunks = Partial<Record<number, () => string>>;

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
