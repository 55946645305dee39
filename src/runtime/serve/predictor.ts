/**
 * A model ready to answer predictions: one onnxruntime session, the input it expects
 * ([N, C, H, W] with a dynamic batch), the normalisation pixels need, and softmax over logits.
 * Runs are serialised (one at a time): onnxruntime-node's run is a synchronous native call, so
 * queueing costs nothing and keeps memory bounded under load.
 */
import type { ModelProto } from "../../onnx/proto.js";
import { Session, type Device } from "../ort.js";
import { BnnasError } from "../../errors.js";
import { readSubnetManifest, type InputNormalization, type SubnetManifest } from "../../extract/provenance.js";

export interface ModelInfo {
  file: string;
  input: { name: string; shape: (number | string)[] };
  output: string;
  /** Channels, height, width of one image. */
  image: { channels: number; height: number; width: number };
  classes: number;
  normalize?: InputNormalization;
  manifest?: SubnetManifest;
}

export interface Prediction {
  argmax: number;
  probabilities: number[];
}

/** Numerically stable softmax of one row. */
export function softmax(logits: ArrayLike<number>, offset: number, length: number): number[] {
  let max = -Infinity;
  for (let k = 0; k < length; k++) max = Math.max(max, logits[offset + k]!);
  const e = Array.from({ length }, (_, k) => Math.exp(logits[offset + k]! - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export class Predictor {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly session: Session, readonly info: ModelInfo) {}

  /**
   * Opens a standalone model (one image input [N, C, H, W]); a supernet (several inputs) is
   * refused. `normalize` overrides the manifest's (for foreign files).
   */
  static async create(model: ModelProto, file: string, options: { device?: Device; threads?: number; normalize?: InputNormalization } = {}): Promise<Predictor> {
    const graph = model.graph!;
    const inits = new Set(graph.initializer.map((t) => t.name));
    const feeds = graph.input.filter((i) => !inits.has(i.name));
    if (feeds.length !== 1) {
      throw new BnnasError(`${file}: has ${feeds.length} inputs (${feeds.map((f) => f.name).join(", ")}); serve needs a subnet with one image input — if this is a supernet, run \`bnnas extract-subnet ${file} --arch A -o subnet.onnx\` first`);
    }
    const input = feeds[0]!;
    const dims = input.type?.tensorType?.shape?.dim ?? [];
    const fixed = dims.slice(1).map((d) => (d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : 0));
    if (dims.length !== 4 || fixed.some((d) => !(d > 0))) {
      throw new BnnasError(`${file}: input '${input.name}' must have shape [batch, C, H, W] with fixed C, H, W to be served`);
    }
    const [channels, height, width] = fixed as [number, number, number];
    const manifest = readSubnetManifest(model, file);
    const session = await Session.create(model, { device: options.device, threads: options.threads });
    const output = graph.output[0]!.name;
    // One dry run tells the number of classes and proves the model runs before we accept traffic.
    const probe = await session.run({ [input.name]: { dims: [1, channels, height, width], data: new Float32Array(channels * height * width) } }, [output]);
    const out = probe[output]!;
    if (out.dims.length !== 2 || out.dims[0] !== 1) {
      await session.release();
      throw new BnnasError(`${file}: output '${output}' has shape [${out.dims}] for one image; serve needs [batch, classes] logits`);
    }
    const normalize = options.normalize ?? manifest?.input.normalize;
    return new Predictor(session, {
      file,
      input: { name: input.name, shape: dims.map((d, i) => (i === 0 ? d.dimParam || "batch" : Number(d.dimValue))) },
      output,
      image: { channels, height, width },
      classes: out.dims[1]!,
      normalize,
      manifest,
    });
  }

  /** Predicts a batch given as model-input values [n, C, H, W] (already normalised). */
  predict(x: Float32Array, n: number): Promise<Prediction[]> {
    const { channels, height, width } = this.info.image;
    const run = async () => {
      const out = await this.session.run({ [this.info.input.name]: { dims: [n, channels, height, width], data: x } }, [this.info.output]);
      const logits = out[this.info.output]!.data as Float32Array;
      const k = this.info.classes;
      return Array.from({ length: n }, (_, i) => {
        const probabilities = softmax(logits, i * k, k);
        let argmax = 0;
        for (let c = 1; c < k; c++) if (probabilities[c]! > probabilities[argmax]!) argmax = c;
        return { argmax, probabilities };
      });
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.session.release();
  }
}
