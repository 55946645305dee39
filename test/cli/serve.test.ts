import { describe, expect, it } from "vitest";
import { createServer } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/index.js";
import { memoryIO } from "../../src/util/io.js";
import { setStopSignal } from "../../src/cli/serve.js";

const MATRIX = "test/fixtures/extract/matrix.onnx";
const dir = mkdtempSync(join(tmpdir(), "bnnas-cli-serve-"));
const sub = join(dir, "sub.onnx");

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
}

describe("bnnas serve", () => {
  it("serves until stopped, then exits 0", async () => {
    expect(await main(["extract-subnet", MATRIX, "--arch", "1,0,1", "-o", sub, "--mean", "0.286", "--std", "0.353"], memoryIO())).toBe(0);
    let stop!: (s: string) => void;
    setStopSignal(() => new Promise((r) => (stop = r)));
    const io = memoryIO();
    const running = main(["serve", sub, "--port", "0", "--threads", "1"], io);
    await waitFor(() => io.out.join("").includes("http://"));
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(io.out.join(""))![0];
    expect(io.out.join("")).toMatch(/1x28x28 -> 10 classes/);
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: "ok" });
    const pixels = Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => (x * y) % 256));
    const r = await fetch(`${url}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pixels }) });
    const j = (await r.json()) as { predictions: { argmax: number; probabilities: number[] }[] };
    expect(j.predictions[0]!.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    stop("SIGTERM");
    expect(await running).toBe(0);
    expect(io.err.join("")).toMatch(/POST \/predict 200/);
  });

  it("refuses a port already in use, and a supernet", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    const io = memoryIO();
    expect(await main(["serve", sub, "--port", String(port)], io)).toBe(1);
    expect(io.err.join("")).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    blocker.close();
    const io2 = memoryIO();
    expect(await main(["serve", MATRIX, "--port", "0"], io2)).toBe(2);
    expect(io2.err.join("")).toMatch(/is a supernet .*extract-subnet/);
  });
});
