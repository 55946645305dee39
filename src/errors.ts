/**
 * Typed errors. Every error a user can cause is a BnnasError: the CLI prints its message as one
 * line (no stack trace unless --debug) and exits with its exitCode. Messages name the file,
 * option or layer at fault and say what to do.
 */
/**
 * A message that names options: `render` gets the caller's spelling of each option key. The
 * library never knows how an option was given; its message uses the plain key (`batch 512 is
 * larger ...`) and the CLI re-renders it with flags (`--batch 512 is larger ...`, cli/index.ts).
 */
export type OptionNames = (option: string) => string;
export type NamedMessage = (name: OptionNames) => string;

export class BnnasError extends Error {
  readonly exitCode: number;
  /** Present when the message names options (see NamedMessage). */
  readonly render?: NamedMessage;
  constructor(message: string | NamedMessage, exitCode = 1) {
    super(typeof message === "string" ? message : message((o) => o));
    this.name = new.target.name;
    this.exitCode = exitCode;
    if (typeof message !== "string") this.render = message;
  }
}

/** A bad command-line option or argument. */
export class UsageError extends BnnasError {
  constructor(message: string | NamedMessage) {
    super(message, 2);
  }
}

/** A bad value of one library option (a TrainConfig field, a strategy name, ...), named by its key. */
export class OptionError extends UsageError {
  constructor(readonly option: string, describe: (name: string) => string) {
    super((name) => describe(name(option)));
  }
}

/** A file that cannot be read or is not what it should be. */
export class InputFileError extends BnnasError {
  constructor(readonly file: string, detail: string | NamedMessage) {
    super(typeof detail === "string" ? `${file}: ${detail}` : (name) => `${file}: ${detail(name)}`);
  }
}

/** A file that is not a valid ONNX model (garbage, truncated, inconsistent). */
export class ModelFormatError extends InputFileError {}

/** An output that cannot be written; nothing partial is left behind. */
export class OutputError extends BnnasError {
  constructor(readonly file: string, detail: string | NamedMessage) {
    super(typeof detail === "string" ? `cannot write ${file}: ${detail}` : (name) => `cannot write ${file}: ${detail(name)}`);
  }
}

/** An architecture that does not fit the space. */
export class ArchError extends BnnasError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** A search-space definition with a problem at a JSON path such as `layers[3].candidates[1]`. */
export class SpaceError extends BnnasError {
  constructor(readonly path: string, detail: string, readonly file?: string) {
    super(`${file ? file + ": " : ""}${path ? path + ": " : ""}${detail}`);
  }
}

/** A supernet whose BatchNorms were folded into the convolutions: there is no gamma to read. */
export class FoldedBatchNormError extends BnnasError {
  constructor(readonly file: string) {
    super(
      `${file}: has no BatchNormalization nodes (BatchNorm was folded into Conv, as PyTorch's default EVAL export does), ` +
        `so there is no gamma to train or score; re-export with torch.onnx.export(..., training=torch.onnx.TrainingMode.PRESERVE) ` +
        `or do_constant_folding=False`,
    );
  }
}

/**
 * A graph bnnas cannot train: a node on the path from a trained parameter to the loss whose op
 * has no gradient rule, or whose shape the gradient needs is not static. Names the node, its op
 * type and what to do.
 */
export class NotDifferentiableError extends BnnasError {
  constructor(readonly node: string, readonly opType: string, detail: string, readonly file?: string) {
    super(`${file ? file + ": " : ""}node '${node}' (${opType}): ${detail}`);
  }
}

/** Training diverged or a tensor holds NaN/Inf. */
export class NumericError extends BnnasError {}

/** An ONNX file that is not a supernet bnnas can read (no mask inputs, candidates not summed...). */
export class NotASupernetError extends InputFileError {}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
