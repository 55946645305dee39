/**
 * The one adapter around onnxruntime-node. Everything that runs a graph goes through here, so
 * device selection, threading and error wording live in one place.
 */
import * as ort from "onnxruntime-node";
import { BnnasError } from "../errors.js";
import { encodeModel } from "../model/model-io.js";
import type { ModelProto } from "../onnx/proto.js";
import type { Tensor, TensorData } from "../onnx/tensor.js";

export type Device = "cpu" | "cuda";

export interface RuntimeOptions {
  device?: Device;
  /** Intra-op threads; defaults to onnxruntime's choice (the number of cores). */
  threads?: number;
  /** Disable graph optimisations (for debugging numerics). */
  noOptimize?: boolean;
  /**
   * Free intermediate buffers after each run instead of keeping them in a per-session arena:
   * for processes holding many sessions (the training engine has one per block kind), where
   * arenas would otherwise add up to gigabytes.
   */
  noArena?: boolean;
  /**
   * Let idle intra-op worker threads sleep instead of spin-waiting after a run. With many
   * sessions run one after another (the training engine), a spinning worker of the previous
   * session competes for the cores with the next session's run.
   */
  noSpin?: boolean;
  /**
   * Pin the intra-op worker threads, one per logical processor from the second on (the calling
   * thread stays where the OS puts it): a CPU session with `threads` > 1 only. Latency tables use
   * it: unpinned, whole processes on a 2-vCPU VM ran at levels 15% apart; pinned, they held to 2%.
   */
  pinThreads?: boolean;
}

export const CUDA_HELP =
  "the CUDA execution provider is not installed: reinstall onnxruntime-node with its CUDA libraries " +
  "(remove `onnxruntime-node-install=skip` from .npmrc, or run `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12` " +
  "on a machine with CUDA 12 and cuDNN 9), then ask for CUDA again";

export function cudaAvailable(): boolean {
  return ort.listSupportedBackends().some((b) => b.name === "cuda" && b.bundled);
}

type OrtType = "float32" | "int64" | "int32" | "float64" | "uint8";
function ortType(data: TensorData): OrtType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Float64Array) return "float64";
  return "uint8";
}

/**
 * onnxruntime's message without its C++ source location and signature
 * (`/onnxruntime_src/.../model.cc:202 onnxruntime::Model::Model(...) Unsupported ...`), on one line.
 */
export function ortMessage(e: unknown): string {
  let msg = ((e as Error)?.message ?? String(e)).replace(/\s*\n\s*/g, " ").trim();
  msg = msg.replace(/^\/?[\w./-]*onnxruntime[\w./-]*\.(?:cc|h|cpp):\d+\s+(?:[^()]*\((?:[^()]|\([^()]*\))*\)\s*)?/, "");
  msg = msg.replace(/\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/g, "");
  return msg.length > 400 ? `${msg.slice(0, 400)}...` : msg;
}

export class Session {
  private constructor(private readonly inner: ort.InferenceSession) {}

  static async create(model: ModelProto | Uint8Array, options: RuntimeOptions = {}): Promise<Session> {
    const bytes = model instanceof Uint8Array ? model : encodeModel(model);
    const device = options.device ?? "cpu";
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: device === "cuda" ? ["cuda", "cpu"] : ["cpu"],
      graphOptimizationLevel: options.noOptimize ? "disabled" : "all",
      // 4 = fatal only: onnxruntime would otherwise print its own multi-line error on stderr
      // before we report the same failure in one line.
      logSeverityLevel: 4,
    };
    const session: Record<string, unknown> = {};
    if (options.noSpin) Object.assign(session, { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } });
    // onnxruntime's format: one entry per worker thread (threads - 1), ';'-separated, 1-based processor ids.
    if (options.pinThreads && device === "cpu" && options.threads !== undefined && options.threads > 1) session.intra_op_thread_affinities = Array.from({ length: options.threads - 1 }, (_, i) => String(i + 2)).join(";");
    if (Object.keys(session).length > 0) sessionOptions.extra = { session };
    if (options.noArena) {
      sessionOptions.enableCpuMemArena = false;
      sessionOptions.enableMemPattern = false;
    }
    if (options.threads !== undefined) {
      sessionOptions.intraOpNumThreads = options.threads;
      sessionOptions.interOpNumThreads = 1;
    }
    if (device === "cuda" && !cudaAvailable()) throw new BnnasError((o) => `${o("device")} cuda: ${CUDA_HELP}`);
    try {
      return new Session(await ort.InferenceSession.create(bytes, sessionOptions));
    } catch (e) {
      throw new BnnasError(`onnxruntime could not load the model: ${ortMessage(e)}`);
    }
  }

  get inputNames(): readonly string[] {
    return this.inner.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.inner.outputNames;
  }

  /** Runs the graph; returns the requested outputs (all by default) as plain tensors. */
  async run(feeds: Record<string, Tensor>, fetches?: readonly string[]): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(ortType(t.data), t.data as never, t.dims);
    let result: ort.InferenceSession.ReturnType;
    try {
      result = fetches ? await this.inner.run(ortFeeds, fetches as string[]) : await this.inner.run(ortFeeds);
    } catch (e) {
      throw new BnnasError(`onnxruntime failed to run the model: ${ortMessage(e)}`);
    }
    const out: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(result)) out[name] = { dims: t.dims.map(Number), data: t.data as TensorData };
    return out;
  }

  async release(): Promise<void> {
    await this.inner.release();
  }
}
