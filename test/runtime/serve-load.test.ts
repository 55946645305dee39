/**
 * Issue 6 item 4: `serve` under load on loopback. 2,000 requests, 32 in flight, 10% malformed
 * (bad JSON, wrong shape, oversized bodies with and without Content-Length, wrong content type,
 * bad PNG bytes, NaN/Infinity/non-numeric values, empty bodies, wrong method, wrong path, too
 * large batches, out-of-range pixels). Every well-formed request must get the probabilities a
 * direct Session.run of the same model gives for the same input (to 1e-5), every malformed one a
 * 4xx with a JSON {"error"} body, no request may fail at the socket level, the server must still
 * be healthy afterwards, and memory must stay flat (RSS and heap after a warm-up vs at the end,
 * after a forced GC).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { PNG } from "pngjs";
import { readModel } from "../../src/model/model-io.js";
import { loadDataset } from "../../src/data/dataset.js";
import { Session } from "../../src/runtime/ort.js";
import { Predictor, softmax } from "../../src/runtime/serve/predictor.js";
import { DRAIN_LIMIT, startServer, type RunningServer } from "../../src/runtime/serve/server.js";
import { Random } from "../../src/util/random.js";
import { SUBSET_DIR as SUBSET } from "../fixtures/paths.js";
import { runCli } from "../cli/run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-serve-load-"));
const TOTAL = 2000;
const CONCURRENCY = 32;
const MALFORMED_SHARE = 0.1;
const MAX_BODY = 128 * 1024;
const MAX_BATCH = 8;
const POOL = 32; // distinct test images
const PIXELS = 28 * 28;

let predictor: Predictor;
let subFile = "";
let subModel: ReturnType<typeof readModel>;
let srv: RunningServer;
let reference: Session;
/** Normalised input of each pool image (what every request form of image i must decode to). */
const x: Float32Array[] = [];
const pixels: Uint8Array[] = [];
/** Probabilities of each pool image from a direct Session.run. */
const expected: number[][] = [];
let mean = 0;
let std = 1;

beforeAll(async () => {
  const supernet = join(dir, "fm.onnx");
  const trained = join(dir, "trained.onnx");
  const sub = join(dir, "sub.onnx");
  const ok = async (args: string[]) => {
    const r = await runCli(args);
    expect(r.code, `${args.join(" ")}: ${r.err}`).toBe(0);
  };
  await ok(["export-supernet", "--space", "fmnist-small", "-o", supernet]);
  await ok(["train", supernet, "-o", trained, "--data", SUBSET, "--steps", "3", "--batch", "16", "--threads", "1", "--quiet", "--bn", "all"]);
  await ok(["extract-subnet", trained, "--arch", "1,4,2,5,3,2", "-o", sub]);
  const model = readModel(sub);
  subFile = sub;
  subModel = model;
  predictor = await Predictor.create(model, sub, { threads: 1 });
  ({ mean: [mean], std: [std] } = predictor.info.normalize as { mean: [number]; std: [number] });
  srv = await startServer(predictor, { port: 0, maxBodyBytes: MAX_BODY, maxBatch: MAX_BATCH });

  const test = loadDataset(SUBSET, "test");
  const all = new Float32Array(POOL * PIXELS);
  for (let i = 0; i < POOL; i++) {
    const p = test.images.subarray(i * PIXELS, (i + 1) * PIXELS);
    pixels.push(p);
    // The server's rule for pixels: (p / 255 - mean) / std in double, stored as float32.
    x.push(Float32Array.from(p, (v) => (v / 255 - mean) / std));
    all.set(x[i]!, i * PIXELS);
  }
  reference = await Session.create(model, { threads: 1 });
  const out = await reference.run({ [predictor.info.input.name]: { dims: [POOL, 1, 28, 28], data: all } }, [predictor.info.output]);
  const logits = out[predictor.info.output]!.data as Float32Array;
  for (let i = 0; i < POOL; i++) expected.push(softmax(logits, i * 10, 10));
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await predictor?.close();
  await reference?.release();
});

const rows = (v: ArrayLike<number>) => Array.from({ length: 28 }, (_, y) => Array.from(v).slice(y * 28, y * 28 + 28));

function pngOf(p: Uint8Array): Buffer {
  const img = new PNG({ width: 28, height: 28 });
  for (let i = 0; i < PIXELS; i++) img.data.set([p[i]!, p[i]!, p[i]!, 255], 4 * i);
  return PNG.sync.write(img);
}

interface Req {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** One buffer (sent with Content-Length), or chunks (sent chunked, without Content-Length). */
  body?: Buffer | Buffer[];
  /** Pool images whose probabilities the reply must hold (well-formed requests). */
  images?: number[];
  /** Expected status class for malformed requests. */
  status?: number;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const JSON_TYPE = { "content-type": "application/json" };

function wellFormed(rng: Random): Req {
  const i = rng.int(POOL);
  const post = (kind: string, body: Buffer, images: number[], headers = JSON_TYPE): Req => ({ kind, method: "POST", path: "/predict", headers, body, images });
  switch (rng.int(5)) {
    case 0: return post("json [C,H,W]", json([rows(x[i]!)]), [i]);
    case 1: return post("json [H,W]", json(rows(x[i]!)), [i]);
    case 2: {
      const images = Array.from({ length: 1 + rng.int(4) }, () => rng.int(POOL));
      return post("json {input: [N,C,H,W]}", json({ input: images.map((k) => [rows(x[k]!)]) }), images);
    }
    case 3: return post("json {pixels}", json({ pixels: rows(pixels[i]!) }), [i]);
    default: return post("png", pngOf(pixels[i]!), [i], { "content-type": "image/png" });
  }
}

function malformed(rng: Random, n: number): Req {
  const i = rng.int(POOL);
  const post = (kind: string, body: Buffer | Buffer[] | undefined, status: number, headers: Record<string, string> = JSON_TYPE, method = "POST", path = "/predict"): Req =>
    ({ kind, method, path, headers, body, status });
  const big = Buffer.alloc(MAX_BODY + 1 + rng.int(3 * MAX_BODY), 0x31);
  const good = json([rows(x[i]!)]);
  const kinds: (() => Req)[] = [
    () => post("bad JSON", good.subarray(0, 1 + rng.int(good.length - 2)), 400),
    () => post("wrong shape", json([[1, 2, 3], [4, 5, 6]]), 400),
    () => post("too large (Content-Length)", big, 413),
    () => post("too large (chunked)", Array.from({ length: 8 }, (_, k) => big.subarray((k * big.length) / 8, ((k + 1) * big.length) / 8)), 413),
    () => post("wrong content type", good, 415, { "content-type": "text/plain" }),
    () => post("no content type", good, 415, {}),
    () => post("bad PNG bytes", Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]), 400, { "content-type": "image/png" }),
    () => post("truncated PNG", pngOf(pixels[i]!).subarray(0, 60), 400, { "content-type": "image/png" }),
    () => post("NaN literal", Buffer.from(JSON.stringify([rows(x[i]!)]).replace(/^\[\[\[[^,]*/, "[[[NaN")), 400),
    () => post("non-numeric value", json([rows(x[i]!).map((r, y) => (y === 5 ? r.map((v, k) => (k === 3 ? "NaN" : v)) : r))]), 400),
    () => post("Infinity", Buffer.from(JSON.stringify([rows(x[i]!)]).replace(/^\[\[\[[^,]*/, "[[[1e999")), 400),
    () => post("empty body", Buffer.alloc(0), 400),
    () => post("wrong method", undefined, 405, {}, "GET"),
    () => post("wrong method with body", good, 405, JSON_TYPE, "PUT"),
    () => post("wrong path", good, 404, JSON_TYPE, "POST", "/predictions"),
    () => post("batch too large", json({ input: Array.from({ length: MAX_BATCH + 1 }, () => [rows(x[i]!)]) }), 413),
    () => post("pixels out of range", json({ pixels: rows(pixels[i]!).map((r) => r.map((v) => v + 300)) }), 400),
  ];
  return kinds[n % kinds.length]!();
}

interface Reply { status: number; body: string; ms: number; headers: Record<string, string | string[] | undefined> }

function send(agent: Agent, r: Req, target: { host: string; port: number } = srv): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const headers = { ...r.headers };
    if (Buffer.isBuffer(r.body)) headers["content-length"] = String(r.body.length);
    const req = request({ host: target.host, port: target.port, method: r.method, path: r.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - t0, headers: res.headers }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (Array.isArray(r.body)) {
      // Streamed in pieces with pauses, as a slow client would, to exercise the limit while streaming.
      const chunks = r.body;
      const next = (k: number) => {
        if (k === chunks.length) return void req.end();
        if (req.destroyed) return;
        req.write(chunks[k]!, () => setTimeout(() => next(k + 1), 1));
      };
      next(0);
    } else req.end(r.body);
  });
}

/**
 * Sends requests `from`..`to` of `reqs` with `concurrency` in flight, handing each reply (or
 * socket error) to `onReply` as it arrives and keeping nothing, so the memory measured is the server's.
 */
async function load(agent: Agent, reqs: Req[], from: number, to: number, concurrency: number, onReply: (k: number, r: Reply | Error) => void): Promise<void> {
  let next = from;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < to) {
      const k = next++;
      onReply(k, await send(agent, reqs[k]!).catch((e: Error) => e));
    }
  }));
}

function obtainGc(): (() => void) | undefined {
  if (typeof globalThis.gc === "function") return globalThis.gc;
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

function memory(gc: (() => void) | undefined) {
  if (gc) for (let k = 0; k < 3; k++) gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external + m.arrayBuffers };
}

describe(`serve under load (${TOTAL} requests, ${CONCURRENCY} concurrent, ${MALFORMED_SHARE * 100}% malformed)`, () => {
  it("answers every well-formed request correctly and every malformed one with a 4xx JSON error, in flat memory", async () => {
    const rng = new Random(6);
    const plan: Req[] = [];
    let bad = 0;
    for (let k = 0; k < TOTAL; k++) plan.push(rng.uniform() < MALFORMED_SHARE ? malformed(rng, bad++) : wellFormed(rng));
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const gc = obtainGc();
    const warmup = 200;
    const problems: string[] = [];
    const latencies = new Float64Array(TOTAL);
    const check = (k: number, reply: Reply | Error) => {
      const r = plan[k]!;
      const where = `request ${k} (${r.kind})`;
      if (reply instanceof Error) return void problems.push(`${where}: ${reply.message}`);
      latencies[k] = reply.ms;
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(reply.body) as Record<string, unknown>;
      } catch {
        return void problems.push(`${where}: status ${reply.status}, body is not JSON: ${reply.body.slice(0, 80)}`);
      }
      if (r.images) {
        if (reply.status !== 200) return void problems.push(`${where}: status ${reply.status}: ${reply.body.slice(0, 200)}`);
        const preds = body["predictions"] as { argmax: number; probabilities: number[] }[];
        if (body["batch"] !== r.images.length || preds.length !== r.images.length) return void problems.push(`${where}: batch ${String(body["batch"])}, want ${r.images.length}`);
        r.images.forEach((img, j) => {
          const want = expected[img]!;
          const got = preds[j]!.probabilities;
          const diff = Math.max(...want.map((v, c) => Math.abs(v - got[c]!)));
          if (!(diff <= 1e-5) || got.length !== 10) problems.push(`${where}: image ${img}: max |p - p_ref| = ${diff}`);
          if (preds[j]!.argmax !== want.indexOf(Math.max(...want))) problems.push(`${where}: image ${img}: argmax ${preds[j]!.argmax}`);
        });
      } else {
        if (reply.status !== r.status) problems.push(`${where}: status ${reply.status}, want ${r.status}: ${reply.body.slice(0, 120)}`);
        if (typeof body["error"] !== "string" || (body["error"] as string).length === 0) problems.push(`${where}: no error message: ${reply.body.slice(0, 120)}`);
      }
    };

    await load(agent, plan, 0, warmup, CONCURRENCY, check);
    const before = memory(gc);
    const t0 = performance.now();
    const half = warmup + (TOTAL - warmup) / 2;
    await load(agent, plan, warmup, half, CONCURRENCY, check);
    const t1 = performance.now();
    const middle = memory(gc);
    const t2 = performance.now();
    await load(agent, plan, half, TOTAL, CONCURRENCY, check);
    const seconds = (performance.now() - t2 + t1 - t0) / 1000;
    const after = memory(gc);

    latencies.sort();
    const mb = (b: number) => (b / 2 ** 20).toFixed(1);
    console.log(
      `[serve load] ${TOTAL} requests (${bad} malformed), ${CONCURRENCY} concurrent: ${((TOTAL - warmup) / seconds).toFixed(0)} requests/s after warm-up; ` +
      `latency p50 ${latencies[TOTAL >> 1]!.toFixed(1)} ms, p99 ${latencies[Math.floor(TOTAL * 0.99)]!.toFixed(1)} ms; ` +
      `${predictor.stats.runs} ORT runs for ${predictor.stats.images} images (largest ${predictor.stats.largestRun}); ` +
      `after ${warmup} / ${half} / ${TOTAL} requests: RSS ${mb(before.rss)} / ${mb(middle.rss)} / ${mb(after.rss)} MB, heap ${mb(before.heap)} / ${mb(middle.heap)} / ${mb(after.heap)} MB, ` +
      `external ${mb(before.external)} / ${mb(middle.external)} / ${mb(after.external)} MB (gc ${gc ? "forced" : "unavailable"})`,
    );
    expect(problems.slice(0, 20), `${problems.length} problems`).toEqual([]);
    // The malformed mix covers every kind at least once.
    expect(bad).toBeGreaterThanOrEqual(17);
    // Still alive and well.
    const health = await send(agent, { kind: "health", method: "GET", path: "/health", headers: {} });
    expect(health.status).toBe(200);
    agent.destroy();
    // Flat memory: generous bounds (a leak of the decoded inputs alone would be ~6 MB per 1,000 requests... times the batch).
    expect(after.rss - before.rss, "RSS growth").toBeLessThan(64 * 2 ** 20);
    expect(after.heap - before.heap, "heap growth").toBeLessThan(16 * 2 ** 20);
  }, 60_000);
});

describe("serve limits", () => {
  const image = () => json([rows(x[0]!)]);

  it("refuses work beyond its bounded queue with 503 + Retry-After, loses nothing it accepted, and recovers", async () => {
    // One image per run and room for 199 queued images, and runs held until the test opens the
    // gate: 200 predictions fill it (1 running + 199 waiting), and it stays full, however fast
    // runs are, until the gate opens; a 100-image request over HTTP then finds it full.
    const one = PIXELS * 4;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let started = 0;
    const beforeRun = () => {
      started++;
      return gate;
    };
    const small = await Predictor.create(subModel, subFile, { threads: 1, maxRunImages: 1, maxQueuedBytes: 199 * one, beforeRun });
    const s = await startServer(small, { port: 0 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (body: Buffer) => send(agent, { kind: "", method: "POST", path: "/predict", headers: JSON_TYPE, body }, s);
    try {
      expect((await send(agent, { kind: "", method: "GET", path: "/health", headers: {} }, s)).status).toBe(200); // connect first
      const accepted = Array.from({ length: 200 }, (_, k) => small.predict(x[k % POOL]!, 1));
      await expect(small.predict(x[0]!, 1)).rejects.toThrow(/queue is full/); // 1 running + 199 waiting
      const refused = await post(json({ input: Array.from({ length: 100 }, (_, k) => [rows(x[k % POOL]!)]) }));
      expect(refused.status, refused.body).toBe(503);
      expect(refused.headers["retry-after"]).toBe("1");
      expect(JSON.parse(refused.body).error).toMatch(/queue is full \(199 requests waiting\); retry shortly/);
      expect(started).toBe(1); // the gate held the first run: nothing drained the queue meanwhile
      expect(small.stats.runs).toBe(0);
      open();
      const results = await Promise.all(accepted);
      expect(small.stats.runs).toBe(200);
      results.forEach((r, k) => expect(Math.max(...expected[k % POOL]!.map((v, c) => Math.abs(v - r[0]!.probabilities[c]!)))).toBeLessThanOrEqual(1e-5));
      expect(small.stats.largestRun).toBe(1);
      const again = await post(image());
      expect(again.status).toBe(200);
    } finally {
      agent.destroy();
      await s.close();
      await small.close();
    }
  });

  it("refuses an oversized body before it is sent (Expect: 100-continue) and cuts off one too large to drain", async () => {
    const early = await new Promise<{ status: number; continued: boolean; body: string }>((resolve, reject) => {
      let continued = false;
      const req = request({ host: srv.host, port: srv.port, method: "POST", path: "/predict", headers: { ...JSON_TYPE, expect: "100-continue", "content-length": String(MAX_BODY * 10) } }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode!, continued, body: text }));
      });
      req.on("continue", () => (continued = true));
      req.on("error", reject);
      req.flushHeaders();
    });
    expect(early).toMatchObject({ status: 413, continued: false });
    expect(JSON.parse(early.body).error).toMatch(/limit is 131072/);

    const cut = await new Promise<{ status: number; connection?: string }>((resolve, reject) => {
      const req = request({ host: srv.host, port: srv.port, method: "POST", path: "/predict", headers: { ...JSON_TYPE, "content-length": String(DRAIN_LIMIT + 1) } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, connection: res.headers.connection });
        req.destroy();
      });
      req.on("error", (e) => (req.destroyed ? undefined : reject(e)));
      req.write(Buffer.alloc(1024));
    });
    expect(cut).toEqual({ status: 413, connection: "close" });
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
  });

  it("cuts off a client that stalls mid-body with 408 within the request timeout", async () => {
    const s = await startServer(predictor, { port: 0, requestTimeoutMs: 400 });
    try {
      const t0 = performance.now();
      const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: s.host, port: s.port, method: "POST", path: "/predict", headers: { ...JSON_TYPE, "content-length": "5000" } }, (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode!, body: text }));
        });
        req.on("error", reject);
        req.write("[[[0.1, 0.2"); // ... and nothing more
      });
      const ms = performance.now() - t0;
      expect(reply.status).toBe(408);
      expect(JSON.parse(reply.body).error).toMatch(/did not arrive within 400 ms/);
      // Not before the timeout (node's check never fires early; 50 ms of slack for its and our
      // clocks' resolution). That it cuts off at all is the reply itself (without it the request
      // never ends and the test times out): no upper bound that a slow machine could break.
      expect(ms).toBeGreaterThanOrEqual(350);
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("answers broken HTTP and oversized headers with a JSON 4xx", async () => {
    const raw = (text: string) => new Promise<string>((resolve, reject) => {
      const sock = connect(srv.port, srv.host, () => sock.end(text));
      let got = "";
      sock.on("data", (c: Buffer) => (got += c.toString()));
      sock.on("close", () => resolve(got));
      sock.on("error", reject);
    });
    const garbage = await raw("THIS IS NOT HTTP\r\n\r\n");
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(garbage.split("\r\n\r\n")[1]!).error).toMatch(/not valid HTTP/);
    const huge = await raw(`GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(64 * 1024)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(huge.split("\r\n\r\n")[1]!).error).toMatch(/headers are too large/);
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
  });

  it("shows a summary of the training record in /info, not the per-epoch history", async () => {
    const r = await fetch(`${srv.url}/info`);
    const text = await r.text();
    const info = JSON.parse(text) as { manifest: { arch: number[]; training: Record<string, unknown> } };
    expect(info.manifest.arch).toEqual([1, 4, 2, 5, 3, 2]);
    expect(info.manifest.training).toMatchObject({ tool: "bnnas train", steps: 3, history_epochs: 1 });
    expect(info.manifest.training).not.toHaveProperty("history");
    expect(text).not.toMatch(/ranking/);
    // The full record is still in the file, for tools that want it.
    expect(JSON.stringify(predictor.info.manifest)).toMatch(/ranking/);
    expect(text.length).toBeLessThan(4000);
  });

  it("refuses a port already in use with one clear line", async () => {
    const { code, out, err } = await runCli(["serve", subFile, "--port", String(srv.port), "--quiet"]);
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`^bnnas: error: port ${srv.port} on 127\\.0\\.0\\.1 is already in use; stop what uses it or pick another with --port\n$`));
    expect(out).toBe("");
  });
});
