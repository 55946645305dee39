import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportSupernet } from "../../src/supernet/export.js";
import { builtinSpace } from "../../src/space/builtins.js";
import { runTraining } from "../../src/pipeline/train-run.js";
import { loadSupernet } from "../../src/supernet/load.js";
import { OptionError } from "../../src/errors.js";
import { SUBSET_DIR } from "../fixtures/paths.js";

const dir = mkdtempSync(join(tmpdir(), "bnnas-pipeline-train-"));
const supernet = join(dir, "s.onnx");
exportSupernet(builtinSpace("fmnist-small"), supernet, { seed: 0 });
const config = { steps: 2, batch: 16, lr: 0.1, momentum: 0.9, weightDecay: 0, weightDecayBn: false, schedule: "linear" as const, labelSmoothing: 0, sampler: "fixed" as const, bn: "last" as const, trainHead: false, seed: 0 };

describe("runTraining (the library behind bnnas train)", () => {
  it("trains one path from its text form, writes the copy with its record, and removes the checkpoint", async () => {
    const output = join(dir, "t.onnx");
    const r = await runTraining({ supernet, output, config, arch: "0,1,-1,3,6,0", data: SUBSET_DIR, engine: { threads: 1 } });
    expect(r.steps).toBe(2);
    expect(r.record.arch).toEqual([0, 1, 6, 3, 6, 0]);
    expect(r.data.images).toBe(6000);
    const trained = loadSupernet(output);
    expect((trained.manifest!.training as { steps: number }).steps).toBe(2);
    expect(existsSync(`${output}.ckpt`)).toBe(false);
  });
  it("refuses an arch without the fixed sampler, naming the option by its key", async () => {
    const e = await runTraining({ supernet, output: join(dir, "u.onnx"), config: { ...config, sampler: "uniform" }, arch: [0, 0, 0, 0, 0, 0], data: SUBSET_DIR }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OptionError);
    expect((e as OptionError).option).toBe("arch");
    expect((e as Error).message).toMatch(/^arch and sampler 'fixed' go together/);
    expect(existsSync(join(dir, "u.onnx"))).toBe(false);
  });
});
