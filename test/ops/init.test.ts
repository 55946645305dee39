import { describe, expect, it } from "vitest";
import { buildSupernet } from "../../src/supernet/export.js";
import { builtinSpace } from "../../src/space/builtins.js";
import { structureFromManifest } from "../../src/supernet/manifest.js";
import { extractSubnet } from "../../src/extract/subnet.js";
import { reinitializeWeights } from "../../src/ops/init.js";
import { readFloats, setFloats } from "../../src/onnx/tensor.js";

describe("re-initialisation with the space's init", () => {
  it("redraws a subnet's weights exactly as export drew them for the same seed, statistics included", () => {
    const { model, manifest } = buildSupernet(builtinSpace("fmnist-small"), { seed: 3 });
    const subnet = extractSubnet(model, structureFromManifest(manifest), [0, 1, 6, 3, 6, 0]).model;
    const fresh = new Map(subnet.graph!.initializer.map((t) => [t.name, readFloats(t)]));
    // Training moved every weight and statistic (not the ReLU6 bounds); reinit must bring each back.
    const trained = subnet.graph!.initializer.filter((t) => !t.name.startsWith("relu6."));
    expect(trained.length).toBe(subnet.graph!.initializer.length - 2);
    for (const t of trained) setFloats(t, readFloats(t).map((v, i) => v * 0.5 + i + 1));
    const r = reinitializeWeights(subnet.graph!, 3);
    for (const t of subnet.graph!.initializer) expect(Array.from(readFloats(t)), t.name).toEqual(Array.from(fresh.get(t.name)!));
    expect(r.linear).toBe(2);
    expect(r.conv).toBe(1 + 3 * 4); // stem + three convs in each of the four MBConv layers (two skips)
    expect(r.batchNorm).toBe(4 * (1 + 3 * 4));
    // Another seed gives other weights (BatchNorm's fixed values aside).
    reinitializeWeights(subnet.graph!, 4);
    const w = subnet.graph!.initializer.find((t) => t.name === "head.fc.weight")!;
    expect(Array.from(readFloats(w))).not.toEqual(Array.from(fresh.get("head.fc.weight")!));
  });
});
