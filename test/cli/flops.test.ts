import { describe, expect, test } from "vitest";
import { join } from "node:path";
import { tempDir } from "../supernet/oracle.js";
import { runCli } from "./run-cli.js";

const flops = (args: string[]) => runCli(["flops", ...args]);

describe("bnnas flops", () => {
  test("--space --json prints macs and params (the fmnist-small table)", async () => {
    const r = await flops(["--space", "fmnist-small", "--arch", "5,5,6,5,6,6", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ macs: 3_600_592, params: 54_298, arch: [5, 5, 6, 5, 6, 6], source: "fmnist-small" });
    expect(j.layers).toHaveLength(6);
  });

  test("--unbiased counts the BatchNorm after skip", async () => {
    const plain = JSON.parse((await flops(["--space", "fmnist-small", "--arch", "5,5,6,5,6,6", "--json"])).out);
    const unbiased = JSON.parse((await flops(["--space", "fmnist-small", "--unbiased", "--arch", "5,5,6,5,6,6", "--json"])).out);
    expect(unbiased.macs).toBe(plain.macs);
    expect(unbiased.params - plain.params).toBe(2 * 32 + 2 * 64 + 2 * 64);
  });

  test("paper form on bnnas-mbv2, human output", async () => {
    const r = await flops(["--space", "bnnas-mbv2", "--arch", "3,-1,0,4,0,-1,-1,0,4,-1,4,4,1,4,2,0,0,4,0,2,2"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^bnnas-mbv2 arch 3,6,0,4,0,6,6,0,4,6,4,4,1,4,2,0,0,4,0,2,2: [\d,]+ MACs \([\d.]+M\), [\d,]+ params \([\d.]+M\)\n$/);
  });

  test("from an exported file gives the same numbers as from the space", async () => {
    const file = join(tempDir(), "s.onnx");
    expect((await runCli(["export-supernet", "--space", "fmnist-small", "-o", file])).code).toBe(0);
    const r = await flops([file, "--arch", "0,0,0,0,0,0", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ macs: 2_420_968, params: 80_898 });
  });

  test.each([
    [["--space", "fmnist-small", "--arch", "0,0,0"], 2, /architecture '0,0,0' has 3 values, but the supernet has 6 layers/],
    [["--space", "fmnist-small", "--arch", "6,0,0,0,0,0"], 2, /layer 0: 6 is not a candidate of this layer; allowed: 0=mb_k3_e3/],
    [["--space", "fmnist-small", "--arch", "0,-1,0,0,0,0"], 2, /layer 1: -1 \(identity\) is not allowed in this layer/],
    [["--arch", "0"], 2, /give either a supernet FILE or --space/],
    [["x.onnx", "--space", "fmnist-small", "--arch", "0"], 2, /give either a supernet FILE or --space/],
    [["/nonexistent.onnx", "--arch", "0"], 1, /\/nonexistent.onnx: no such file/],
  ])("bad input %j", async (args, code, expected) => {
    const r = await flops(args);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(expected);
  });
});
