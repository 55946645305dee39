/**
 * Seed models for the fuzz suite, built once per run in a temp dir: a bnnas export of a narrowed
 * fmnist-small (same input, classes and candidate ops, two thin layers, so that decoding a mutant
 * costs a millisecond, not the 50 ms of the full 3.6 MB export), the vendored torch-tiny PyTorch
 * supernet, and a subnet extracted from the bnnas export.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { builtinSpace } from "../../src/space/builtins.js";
import { buildSupernet } from "../../src/supernet/export.js";
import { encodeModel } from "../../src/model/model-io.js";
import { loadSupernet } from "../../src/supernet/load.js";
import { extractWithManifest } from "../../src/extract/from-file.js";
import { readManifest } from "../../src/supernet/manifest.js";
import type { SpaceSpec } from "../../src/space/spec.js";
import { TORCH_TINY_DIR } from "../fixtures/paths.js";
import { writeFileSync } from "node:fs";

export interface Seed {
  name: string;
  bytes: Uint8Array;
  /** Supernet (mask inputs) or subnet (one image input). */
  kind: "supernet" | "subnet";
  /** An architecture valid for the seed (for --arch). */
  arch: string;
  /** Extra flags eval/train/serve need for this seed (normalisation for foreign files). */
  norm: string[];
}

/** fmnist-small with its stem narrowed to 8 channels and two 8-channel layers (the second also allows skip). */
export function smallFmnistSpec(): SpaceSpec {
  const full = builtinSpace("fmnist-small");
  const all = full.candidates.map((c) => c.name);
  return {
    ...full,
    name: "fmnist-small-narrow",
    stem: [{ ...full.stem[0]!, out: 8 }],
    layers: [
      { label: "layer0", in: 8, out: 8, stride: 1, allowed: all.filter((n) => n !== "skip") },
      { label: "layer1", in: 8, out: 8, stride: 2, allowed: all.filter((n) => n !== "skip") },
      { label: "layer2", in: 8, out: 8, stride: 1, allowed: all },
    ],
  };
}

export function buildSeeds(dir: string): Seed[] {
  const { model } = buildSupernet(smallFmnistSpec(), { seed: 7 });
  const bnnas = encodeModel(model);
  const bnnasFile = join(dir, "seed-bnnas.onnx");
  writeFileSync(bnnasFile, bnnas);
  const loaded = loadSupernet(bnnasFile);
  const sub = extractWithManifest({ ...loaded, manifest: readManifest(loaded.model, bnnasFile) }, [1, 0, 6]);
  const torchTiny = readFileSync(join(TORCH_TINY_DIR, "supernet.preserve.onnx"));
  // Plain Uint8Array copies: Buffer.slice would give mutations a view into the seed itself.
  return [
    { name: "bnnas", bytes: new Uint8Array(bnnas), kind: "supernet", arch: "1,0,6", norm: [] },
    { name: "torch-tiny", bytes: new Uint8Array(torchTiny), kind: "supernet", arch: "0,1,2", norm: ["--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25"] },
    { name: "subnet", bytes: new Uint8Array(encodeModel(sub.model)), kind: "subnet", arch: "1,0,6", norm: [] },
  ];
}
