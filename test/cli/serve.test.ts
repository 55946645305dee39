import { describe, expect, it } from "vitest";
import { createServer } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setStopSignal } from "../../src/cli/serve.js";
import type { RunningServer } from "../../src/runtime/serve/server.js";
import { runCli } from "./run-cli.js";

const MATRIX = "test/fixtures/extract/matrix.onnx";
const dir = mkdtempSync(join(tmpdir(), "bnnas-cli-serve-"));
const sub = join(dir, "sub.onnx");

/**
 * Runs `bnnas serve ARGS` in-process: once it listens, `whileServing` talks to the server, then the
 * server is told to stop (SIGTERM). Returns the exit code, what it printed and what `whileServing` returned.
 */
async function serveWhile<T>(args: string[], whileServing: (server: RunningServer) => Promise<T>): Promise<{ code: number; out: string; err: string; seen: T }> {
  let seen: { value: T } | undefined;
  let failure: unknown;
  setStopSignal(async (server) => {
    try {
      seen = { value: await whileServing(server) };
    } catch (e) {
      failure = e;
    }
    return "SIGTERM";
  });
  const r = await runCli(["serve", ...args]);
  if (failure !== undefined) throw failure;
  expect(seen, `serve exited without listening: ${r.err}`).toBeDefined();
  return { ...r, seen: seen!.value };
}

const pixels = Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => (x * y) % 256));

describe("bnnas serve", () => {
  it("serves until stopped, then exits 0", async () => {
    const extracted = await runCli(["extract-subnet", MATRIX, "--arch", "1,0,1", "-o", sub, "--mean", "0.286", "--std", "0.353"]);
    expect(extracted.code, extracted.err).toBe(0);
    const r = await serveWhile([sub, "--port", "0", "--threads", "1"], async (server) => {
      const health = await (await fetch(`${server.url}/health`)).json();
      const reply = await fetch(`${server.url}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pixels }) });
      return { url: server.url, health, status: reply.status, predict: (await reply.json()) as { predictions: { argmax: number; probabilities: number[] }[] } };
    });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`serving ${sub} (1x28x28 -> 10 classes) on ${r.seen.url}\n`);
    expect(r.seen.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    expect(r.seen.health).toEqual({ status: "ok" });
    expect(r.seen.status).toBe(200);
    const p = r.seen.predict.predictions[0]!;
    expect(p.probabilities).toHaveLength(10);
    expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(p.argmax).toBe(p.probabilities.indexOf(Math.max(...p.probabilities)));
    expect(r.err).toMatch(/POST \/predict 200/);
    expect(r.err).toMatch(/SIGTERM: stopping\n$/);
  });

  it("--json prints one JSON line on stdout once listening: where to connect and what it serves", async () => {
    const r = await serveWhile([sub, "--port", "0", "--threads", "1", "--json", "--quiet"], async (server) => {
      const info = (await (await fetch(`${server.url}/info`)).json()) as { input: unknown; output: string };
      return { url: server.url, port: server.port, info };
    });
    expect(r.code, r.err).toBe(0);
    expect(r.out.endsWith("\n") && r.out.indexOf("\n") === r.out.length - 1, r.out).toBe(true);
    expect(JSON.parse(r.out)).toEqual({
      url: r.seen.url,
      host: "127.0.0.1",
      port: r.seen.port,
      model: sub,
      input: r.seen.info.input,
      output: r.seen.info.output,
      image: { channels: 1, height: 28, width: 28 },
      classes: 10,
      normalize: { mean: [0.286], std: [0.353] },
    });
    expect(r.seen.url).toBe(`http://127.0.0.1:${r.seen.port}`);
    expect(r.seen.info.input).toMatchObject({ shape: ["batch", 1, 28, 28] });
  });

  it("refuses a port already in use, and a supernet", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const busy = await runCli(["serve", sub, "--port", String(port)]);
      expect(busy.code).toBe(1);
      expect(busy.err).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
      expect(busy.out).toBe("");
    } finally {
      blocker.close();
    }
    const supernet = await runCli(["serve", MATRIX, "--port", "0"]);
    expect(supernet.code).toBe(2);
    expect(supernet.err).toMatch(/is a supernet .*extract-subnet/);
  });
});
