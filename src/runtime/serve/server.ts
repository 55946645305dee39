/**
 * The HTTP server (node:http, no framework):
 *   GET  /health   {"status": "ok"}
 *   GET  /info     the model: input name/shape, classes, normalisation, subnet manifest
 *   GET  /         a page that classifies drawings in the browser and on the server (page.ts)
 *   POST /predict  JSON or PNG body (see decode.ts) ->
 *                  {"batch": n, "labels": [class names], "predictions": [{"argmax": k, "label": name, "probabilities": [...]}], "model_ms": t}
 * Every bad request gets a 4xx JSON {"error": "..."}; nothing a client sends can crash the server.
 *
 * Bounded by construction: a body is refused (413) as soon as it passes the limit while it
 * streams in (or before, from its Content-Length or an Expect: 100-continue), then the rest is
 * read and discarded up to DRAIN_LIMIT so the client can read the reply (closing a socket with
 * unread data makes the kernel reset the connection, and the client may lose the 413), and the
 * connection is cut beyond that. Predictions wait in the predictor's bounded, micro-batching
 * queue (predictor.ts); when it is full the reply is 503 with Retry-After. Slow or stalled
 * clients are cut off (408) by the header (10 s) and request (30 s, requestTimeoutMs) timeouts.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import { BnnasError, OptionError } from "../../errors.js";
import { decodeJson, decodePng, RequestError } from "./decode.js";
import { QueueFullError, type Predictor, type ModelInfo } from "./predictor.js";
import { AssetError, PAGE_CSP, pageAssets } from "./page.js";

/** Bytes of a refused body read and discarded before the connection is cut instead. */
export const DRAIN_LIMIT = 64 * 1024 * 1024;

export interface ServeOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Largest accepted body in bytes (default 8 MiB). */
  maxBodyBytes?: number;
  /** Largest accepted batch (default 256 images). */
  maxBatch?: number;
  /** A request (headers and body) must arrive within this many ms, else 408 and the connection closes (default 30 s). */
  requestTimeoutMs?: number;
  /** Called for each request (method, path, status, ms): access log. */
  log?: (line: string) => void;
}

export interface RunningServer {
  server: Server;
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Reads the body, refusing it (413) as soon as it passes `limit` bytes (the rest stays unread). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new RequestError(413, `the body is ${declared} bytes; the limit is ${limit}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        stop();
        chunks.length = 0;
        reject(new RequestError(413, `the body is larger than the limit of ${limit} bytes`));
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (e: Error) => {
      stop();
      reject(new RequestError(400, `the request body could not be read (${e.message})`));
    };
    const onClose = () => {
      stop();
      reject(new RequestError(400, "the client closed the connection before the body was complete"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/**
 * After an early reply, reads and discards what is left of the body so the client receives the
 * reply and the connection stays usable; a body beyond DRAIN_LIMIT has the connection cut.
 */
function discardBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  let drained = 0;
  req.on("data", (c: Buffer) => {
    drained += c.length;
    if (drained > DRAIN_LIMIT) req.socket.destroy();
  });
  req.on("error", () => undefined);
  req.resume();
}

/** What GET /info shows of the model: its manifest with the training record summarised (no per-epoch history). */
export function modelSummary(info: ModelInfo): Record<string, unknown> | null {
  if (!info.manifest) return null;
  const { training, ...rest } = info.manifest as typeof info.manifest & { training?: unknown };
  if (!training || typeof training !== "object" || Array.isArray(training)) return rest;
  const { history, ...summary } = training as Record<string, unknown>;
  return { ...rest, training: { ...summary, ...(Array.isArray(history) ? { history_epochs: history.length } : {}) } };
}

export function startServer(predictor: Predictor, options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const maxBatch = options.maxBatch ?? 256;
  const { info } = predictor;
  // GET /info describes a model and limits that never change while serving: built once.
  const infoReply = {
    file: info.file,
    input: info.input,
    output: info.output,
    classes: info.classes,
    labels: info.labels,
    normalize: info.normalize ?? null,
    manifest: modelSummary(info),
    limits: { max_body_bytes: maxBody, max_batch: maxBatch },
  };

  // GET / and the page's files (page.ts): the browser page, onnxruntime-web, the model's bytes.
  const assets = pageAssets(info.file);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const path = (req.url ?? "/").split("?")[0]!;
    let asset;
    try {
      asset = path === "/predict" || path === "/info" || path === "/health" ? undefined : assets(path);
    } catch (e) {
      if (e instanceof AssetError) throw new RequestError(e.status, e.message);
      throw e;
    }
    if (asset) {
      if (req.method !== "GET" && req.method !== "HEAD") throw new RequestError(405, `use GET ${path}`);
      res.writeHead(asset.status, {
        "content-type": asset.type,
        "content-length": asset.body.length,
        "content-security-policy": PAGE_CSP,
        "x-content-type-options": "nosniff",
        "cache-control": asset.maxAge > 0 ? `public, max-age=${asset.maxAge}` : "no-cache",
      });
      res.end(req.method === "HEAD" ? undefined : asset.body);
      return asset.status;
    }
    if (path === "/health") {
      if (req.method !== "GET" && req.method !== "HEAD") throw new RequestError(405, "use GET /health");
      send(res, 200, { status: "ok" });
      return 200;
    }
    if (path === "/info") {
      if (req.method !== "GET") throw new RequestError(405, "use GET /info");
      send(res, 200, infoReply);
      return 200;
    }
    if (path !== "/predict") throw new RequestError(404, `no such endpoint '${path}'; try GET / (the page), GET /health, GET /info, POST /predict`);
    if (req.method !== "POST") throw new RequestError(405, "use POST /predict with a JSON or PNG body");
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json" && type !== "image/png") {
      throw new RequestError(415, `content type '${type || "(none)"}' is not supported; send application/json or image/png`);
    }
    const body = await readBody(req, maxBody);
    if (body.length === 0) throw new RequestError(400, "the body is empty");
    const batch = type === "image/png" ? decodePng(body, info.image, info.normalize) : decodeJson(body, info.image, info.normalize, maxBatch);
    const t0 = performance.now();
    const predictions = await predictor.predict(batch.x, batch.n);
    send(res, 200, { batch: batch.n, labels: info.labels, predictions, model_ms: Math.round((performance.now() - t0) * 1000) / 1000 });
    return 200;
  };

  const respond = (req: IncomingMessage, res: ServerResponse) => {
    const t0 = performance.now();
    handle(req, res)
      .catch((e: unknown) => {
        const busy = e instanceof QueueFullError;
        const status = e instanceof RequestError ? e.status : busy ? 503 : 500;
        const message = e instanceof RequestError || busy ? e.message : `internal error: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`;
        if (!res.headersSent) {
          if (busy) res.setHeader("retry-after", "1");
          // A body too large to drain: reply, then close rather than read it all.
          if (Number(req.headers["content-length"]) > DRAIN_LIMIT) res.setHeader("connection", "close");
          send(res, status, { error: message });
          discardBody(req);
        } else res.destroy();
        return status;
      })
      .then((status) => options.log?.(`${req.method} ${req.url} ${status} ${(performance.now() - t0).toFixed(1)}ms`))
      .catch(() => undefined);
  };
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const server = createServer({
    requestTimeout,
    headersTimeout: Math.min(10_000, requestTimeout),
    // How often node checks those timeouts (its default, 30 s, would let a stalled client hold a
    // connection for up to twice the timeout).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, requestTimeout / 4)),
  }, respond);
  // Malformed HTTP, oversized headers and timeouts are caught by node before any handler runs:
  // answer them in the same JSON form as every other error (node's default has no body).
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    const pending = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
    if (err.code === "ECONNRESET" || !socket.writable || pending?.headersSent) {
      socket.destroy();
      return;
    }
    const status = err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : err.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
    const message = status === 408 ? `the request did not arrive within ${requestTimeout} ms` : status === 431 ? "the request headers are too large" : `the request is not valid HTTP (${err.code ?? err.message})`;
    const body = JSON.stringify({ error: message });
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    options.log?.(`(client error) ${status} ${message}`);
  });
  // Expect: 100-continue: refuse a declared oversized body before the client sends it.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBody) {
      res.setHeader("connection", "close");
      send(res, 413, { error: `the body is ${declared} bytes; the limit is ${maxBody}` });
      options.log?.(`${req.method} ${req.url} 413 (before 100-continue)`);
      return;
    }
    res.writeContinue();
    respond(req, res);
  });

  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE") reject(new BnnasError((o) => `port ${options.port} on ${host} is already in use; stop what uses it or pick another with ${o("port")}`));
      else if (e.code === "EACCES") reject(new BnnasError((o) => `no permission to listen on ${host}:${options.port} (ports below 1024 need privileges); pick another with ${o("port")}`));
      else if (e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND") reject(new OptionError("host", (o) => `${o} ${host} is not an address of this machine`));
      else reject(new BnnasError(`cannot listen on ${host}:${options.port}: ${e.message}`));
    };
    server.once("error", onError);
    server.listen(options.port, host, () => {
      server.off("error", onError);
      // Later errors (e.g. EMFILE when accepting) must not become an unhandled 'error' event that ends the process.
      server.on("error", (e: Error) => options.log?.(`server error: ${e.message}`));
      const port = (server.address() as AddressInfo).port;
      const shownHost = host.includes(":") ? `[${host}]` : host;
      resolve({
        server,
        host,
        port,
        url: `http://${shownHost}:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
