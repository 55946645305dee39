/**
 * The HTTP server (node:http, no framework):
 *   GET  /health   {"status": "ok"}
 *   GET  /info     the model: input name/shape, classes, normalisation, subnet manifest
 *   POST /predict  JSON or PNG body (see decode.ts) ->
 *                  {"batch": n, "predictions": [{"argmax": k, "probabilities": [...]}], "model_ms": t}
 * Every bad request gets a 4xx JSON {"error": "..."}; nothing a client sends can crash the server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BnnasError } from "../../errors.js";
import { decodeJson, decodePng, RequestError } from "./decode.js";
import type { Predictor } from "./predictor.js";

export interface ServeOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Largest accepted body in bytes (default 8 MiB). */
  maxBodyBytes?: number;
  /** Largest accepted batch (default 256 images). */
  maxBatch?: number;
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

/** Reads the body, refusing it (413) as soon as it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new RequestError(413, `the body is ${declared} bytes; the limit is ${limit}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(new RequestError(413, `the body is larger than the limit of ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on("error", (e) => {
      if (!failed) reject(new RequestError(400, `the request body could not be read (${e.message})`));
      failed = true;
    });
  });
}

export function startServer(predictor: Predictor, options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const maxBatch = options.maxBatch ?? 256;
  const { info } = predictor;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/health") {
      if (req.method !== "GET" && req.method !== "HEAD") throw new RequestError(405, "use GET /health");
      send(res, 200, { status: "ok" });
      return 200;
    }
    if (path === "/info") {
      if (req.method !== "GET") throw new RequestError(405, "use GET /info");
      send(res, 200, {
        file: info.file,
        input: info.input,
        output: info.output,
        classes: info.classes,
        normalize: info.normalize ?? null,
        manifest: info.manifest ?? null,
        limits: { max_body_bytes: maxBody, max_batch: maxBatch },
      });
      return 200;
    }
    if (path !== "/predict") throw new RequestError(404, `no such endpoint '${path}'; try GET /health, GET /info, POST /predict`);
    if (req.method !== "POST") throw new RequestError(405, "use POST /predict with a JSON or PNG body");
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json" && type !== "image/png") {
      // Drain nothing: the connection closes after the reply.
      throw new RequestError(415, `content type '${type || "(none)"}' is not supported; send application/json or image/png`);
    }
    const body = await readBody(req, maxBody);
    if (body.length === 0) throw new RequestError(400, "the body is empty");
    const batch = type === "image/png" ? decodePng(body, info.image, info.normalize) : decodeJson(body, info.image, info.normalize, maxBatch);
    const t0 = performance.now();
    const predictions = await predictor.predict(batch.x, batch.n);
    send(res, 200, { batch: batch.n, predictions, model_ms: Math.round((performance.now() - t0) * 1000) / 1000 });
    return 200;
  };

  const server = createServer((req, res) => {
    const t0 = performance.now();
    handle(req, res)
      .catch((e: unknown) => {
        const status = e instanceof RequestError ? e.status : 500;
        const message = e instanceof RequestError ? e.message : `internal error: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`;
        if (!res.headersSent) {
          // An unread body would otherwise keep the socket busy; close after replying.
          if (status === 413 || status === 415) res.setHeader("connection", "close");
          send(res, status, { error: message });
        } else res.destroy();
        return status;
      })
      .then((status) => options.log?.(`${req.method} ${req.url} ${status} ${(performance.now() - t0).toFixed(1)}ms`))
      .catch(() => undefined);
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE") reject(new BnnasError(`port ${options.port} on ${host} is already in use; stop what uses it or pick another with --port`));
      else if (e.code === "EACCES") reject(new BnnasError(`no permission to listen on ${host}:${options.port} (ports below 1024 need privileges); pick another with --port`));
      else if (e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND") reject(new BnnasError(`--host ${host} is not an address of this machine`));
      else reject(new BnnasError(`cannot listen on ${host}:${options.port}: ${e.message}`));
    };
    server.once("error", onError);
    server.listen(options.port, host, () => {
      server.off("error", onError);
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
