/** `bnnas info FILE [--json]`: what a supernet file holds (space, layers, candidates, costs, training). */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { getTrainingRecord } from "../supernet/manifest.js";
import { loadSupernet } from "../supernet/load.js";

const fmt = (n: number | undefined) => (n === undefined ? "?" : n.toLocaleString("en-US"));

export function register(program: Command, io: ConsoleIO): void {
  program
    .command("info")
    .description("describe a supernet file: space, choice layers, candidates, MACs/params, training record")
    .argument("<file>", "a supernet ONNX file (bnnas or PyTorch convention)")
    .option("--json", "print JSON on stdout")
    .action((file: string, opts: { json?: boolean }) => {
      // bnnas files are read through their manifest, others through the PyTorch-convention importer.
      const { model, structure: s, manifest, countProblem } = loadSupernet(file);
      const training = getTrainingRecord(model, file);
      const architectures = s.layers.reduce((n, l) => n * l.candidates.length, 1);
      if (opts.json) {
        io.stdout(
          JSON.stringify({
            file,
            source: s.source,
            space: manifest?.space.name ?? null,
            seed: manifest?.seed ?? null,
            unbiased: manifest?.unbiased ?? null,
            input: { name: s.input.name, shape: s.input.shape, normalize: manifest?.input.normalize ?? null },
            classes: manifest?.classes ?? null,
            output: s.output,
            architectures,
            fixed: s.fixed ?? null,
            countProblem: countProblem ?? null,
            layers: s.layers.map((l) => ({
              label: l.label,
              input: l.input,
              output: l.output,
              mask: l.mask,
              candidates: l.candidates.map((c) => ({ name: c.name, position: c.position, macs: c.macs ?? null, params: c.params ?? null, batchNorms: c.batchNorms.length, indicator: c.indicator?.node ?? null })),
            })),
            fixedDepth: manifest?.space.fixedDepth ?? null,
            training,
          }) + "\n",
        );
        return;
      }
      const lines: string[] = [];
      lines.push(
        manifest
          ? `${file}: bnnas supernet of space '${manifest.space.name}' (seed ${manifest.seed}${manifest.unbiased ? ", unbiased: BN after skip/pooling" : ""})`
          : `${file}: ${s.source === "pytorch" ? "PyTorch-convention" : s.source} supernet (no bnnas manifest; structure read from the graph)`,
      );
      const norm = manifest ? `, normalise mean [${manifest.input.normalize.mean.join(", ")}] std [${manifest.input.normalize.std.join(", ")}]` : "";
      lines.push(`input '${s.input.name}' [${s.input.shape.join(", ")}]${norm}; output '${s.output}'${manifest ? ` (${manifest.classes} classes)` : ""}`);
      lines.push(`${s.layers.length} choice layers, ${architectures.toLocaleString("en-US")} architectures`);
      if (manifest?.space.fixedDepth) lines.push(`fixed depth (search default): layers ${manifest.space.fixedDepth.join(", ")} are always identity, no other layer is`);
      lines.push(s.fixed ? `fixed part (stem, head): ${fmt(s.fixed.macs)} MACs, ${fmt(s.fixed.params)} params` : `costs: not counted${countProblem ? ` (${countProblem})` : ""}`);
      for (const [l, layer] of s.layers.entries()) {
        const mask = layer.mask.kind === "vector" ? `mask '${layer.mask.input}'` : `mask '${layer.mask.input}' row ${layer.mask.row}`;
        lines.push(`layer ${l} '${layer.label}' (${mask}):`);
        for (const c of layer.candidates) {
          const bn = c.indicator ? `indicator ${c.indicator.node}` : "no BatchNorm (scores 0)";
          lines.push(`  ${String(c.position).padStart(2)} ${c.name.padEnd(12)} ${fmt(c.macs).padStart(13)} MACs ${fmt(c.params).padStart(11)} params  ${bn}`);
        }
      }
      lines.push(training ? `training: ${JSON.stringify(training)}` : "training: none (not trained by bnnas)");
      io.stdout(lines.join("\n") + "\n");
    });
}
