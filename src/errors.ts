/**
 * Typed errors. Every error a user can cause is a BnnasError: the CLI prints its message as one
 * line (no stack trace unless --debug) and exits with its exitCode. Messages name the file,
 * option or layer at fault and say what to do.
 */
export class BnnasError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A bad command-line option or argument. */
export class UsageError extends BnnasError {
  constructor(message: string) {
    super(message, 2);
  }
}

/**
 * A bad value of a library option (a TrainConfig field, a search name, ...). The library does
 * not know how the option was spelled by its caller: the message is made by `render` from the
 * option's name, which is the option key in the library (`batch 512 is larger than ...`) and the
 * flag on the command line (`--batch 512 is larger than ...`, see cli/index.ts).
 */
export class OptionError extends UsageError {
  constructor(readonly option: string, readonly render: (name: string) => string) {
    super(render(option));
  }
}

/** A file that cannot be read or is not what it should be. */
export class InputFileError extends BnnasError {
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
  }
}

/** A file that is not a valid ONNX model (garbage, truncated, inconsistent). */
export class ModelFormatError extends InputFileError {}

/** An output that cannot be written; nothing partial is left behind. */
export class OutputError extends BnnasError {
  constructor(readonly file: string, detail: string) {
    super(`cannot write ${file}: ${detail}`);
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
