import { describe, expect, test } from "vitest";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { builtinSpace } from "../../src/space/builtins.js";
import { resolveSpace } from "../../src/space/resolve.js";
import { buildSupernet, exportSupernet } from "../../src/supernet/export.js";
import { structureFromManifest } from "../../src/supernet/manifest.js";
import { archCost, parseArch } from "../../src/structure/arch.js";
import { PYTHON, tempDir } from "../supernet/oracle.js";
import { allOpsSpace } from "../ops/all-ops-space.js";
import type { SpaceSpec } from "../../src/space/spec.js";

const structureOf = (name: "fmnist-small" | "bnnas-mbv2") => structureFromManifest(buildSupernet(builtinSpace(name), { weights: false }).manifest);

describe("counting (MACs of Conv+Linear, params of conv/linear weights, linear bias, BN gamma+beta)", () => {
  test("fmnist-small matches the table in fmnist-small.md", () => {
    const s = structureOf("fmnist-small");
    expect(archCost(s, parseArch("0,0,0,0,0,0", s))).toEqual({ macs: 2_420_968, params: 80_898 });
    expect(archCost(s, parseArch("5,5,5,5,5,5", s))).toEqual({ macs: 6_838_672, params: 216_090 });
    expect(archCost(s, parseArch("5,5,6,5,6,6", s))).toEqual({ macs: 3_600_592, params: 54_298 });
  });

  test("bnnas-mbv2: stem + fixed block = 30.1M MACs; MBConv k3 e3 32->32 at 56x56 = 22.0M", () => {
    const r = resolveSpace(builtinSpace("bnnas-mbv2"));
    const stem = r.stem.reduce((a, o) => a + o.cost.macs, 0);
    expect((stem / 1e6).toFixed(1)).toBe("30.1");
    const layer1 = r.layers[1]!;
    expect([layer1.place.in, layer1.place.out, layer1.place.stride]).toEqual([{ c: 32, h: 56, w: 56 }, 32, 1]);
    expect((layer1.candidates[0]!.cost.macs / 1e6).toFixed(1)).toBe("22.0");
    // Spatial sizes per the spec: 112 -> 56 (layers 0-3) -> 28 (4-7) -> 14 (8-15) -> 7 (16-20).
    expect(r.layers.map((l) => l.outShape.h)).toEqual([56, 56, 56, 56, 28, 28, 28, 28, 14, 14, 14, 14, 14, 14, 14, 14, 7, 7, 7, 7, 7]);
    expect(r.headOut).toEqual({ c: 1728, h: 7, w: 7 });
    // The architecture quoted in bnnas-mbv2.md (BN-NAS's searched net, reported at ~470M FLOPs)
    // lands just under the paper's 475M search limit.
    const s = structureOf("bnnas-mbv2");
    const cost = archCost(s, parseArch("3,-1,0,4,0,-1,-1,0,4,-1,4,4,1,4,2,0,0,4,0,2,2", s));
    expect(cost.macs).toBeGreaterThan(465e6);
    expect(cost.macs).toBeLessThanOrEqual(475e6);
  });

  test("the op files' analytic costs equal what the emitted graph holds (ONNX shape inference)", () => {
    const dir = tempDir();
    const cases: [SpaceSpec, boolean][] = [[builtinSpace("fmnist-small"), false], [allOpsSpace(), true], [allOpsSpace(), false]];
    for (const [spec, unbiased] of cases) {
      const file = join(dir, `${spec.name}-${unbiased}.onnx`);
      const { manifest } = exportSupernet(spec, file, { unbiased });
      const counted = JSON.parse(execFileSync(PYTHON, [join(import.meta.dirname, "../fixtures/space/count_graph.py"), file], { encoding: "utf8" })) as Record<string, { macs: number; params: number }>;
      expect(counted.fixed).toEqual(manifest.fixed);
      for (const [l, layer] of manifest.layers.entries()) {
        for (const c of layer.candidates) {
          expect({ c: `${l}.${c.name}`, ...(counted[`layers.${l}.${c.name}`] ?? { macs: 0, params: 0 }) }).toEqual({ c: `${l}.${c.name}`, macs: c.macs, params: c.params });
        }
      }
    }
  });
});
