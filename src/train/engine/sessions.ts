/**
 * Lazily created, cached onnxruntime sessions, one per block model kind. Session creation costs
 * far more than a run, so each kind is created on first use and reused for the whole run.
 * Optionally records wall time per kind (creation and runs) to show where a step's time goes.
 */
import type { ModelProto } from "../../onnx/proto.js";
import type { Tensor } from "../../onnx/tensor.js";
import { Session, type RuntimeOptions } from "../../runtime/ort.js";

export interface KindTiming {
  createMs: number;
  runs: number;
  runMs: number;
}

export class SessionCache {
  private readonly sessions = new Map<string, Promise<Session>>();
  readonly timings = new Map<string, KindTiming>();
  constructor(private readonly options: RuntimeOptions, private readonly timed = false) {}

  get(key: string, model: ModelProto): Promise<Session> {
    let s = this.sessions.get(key);
    if (!s) {
      const t0 = performance.now();
      s = Session.create(model, this.options);
      if (this.timed) void s.then(() => (this.timing(key).createMs += performance.now() - t0));
      this.sessions.set(key, s);
    }
    return s;
  }

  async run(key: string, model: ModelProto, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const session = await this.get(key, model);
    if (!this.timed) return session.run(feeds);
    const t0 = performance.now();
    const out = await session.run(feeds);
    const t = this.timing(key);
    t.runs++;
    t.runMs += performance.now() - t0;
    return out;
  }

  private timing(key: string): KindTiming {
    let t = this.timings.get(key);
    if (!t) this.timings.set(key, (t = { createMs: 0, runs: 0, runMs: 0 }));
    return t;
  }

  get size(): number {
    return this.sessions.size;
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s).release();
  }
}
