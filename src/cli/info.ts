/**
 * `bnnas info FILE [--json]`: what a supernet file holds (space, layers, candidates, costs,
 * training), or a subnet (architecture, costs, input, where it came from, how it was trained).
 */
import type { Command } from "commander";
import { trainingRankStability } from "../pipeline/rank.js";
import type { ConsoleIO } from "../util/io.js";
import { UsageError } from "../errors.js";
import { getTrainingRecord } from "../supernet/manifest.js";
import { loadTrainable, type LoadedSubnet } from "../supernet/trainable.js";
import { countParams } from "../supernet/subnet-manifest.js";
import { checkTable, latencyColumns, predictSubnetLatency, readLatencyTable } from "../latency/table.js";
import { deploymentFacts } from "../extract/deploy-info.js";
import { modelOpset } from "../extract/opset-convert.js";

const fmt = (n: number | undefined) => (n === undefined ? "?" : n.toLocaleString("en-US"));

export function register(program: Command, io: ConsoleIO): void {
  program
    .command("info")
    .description("describe a supernet (space, choice layers, candidates, MACs/params, training record) or a subnet (architecture, costs, input, provenance, training)")
    .argument("<file>", "a supernet ONNX file (bnnas or PyTorch convention) or a subnet")
    .option("--latency-table <file>", "also the predicted latency (ms) from a table of bnnas latency: the subnet's, or each candidate's and the fastest/slowest architecture's")
    .option("--force", "use a latency table measured for another supernet")
    .option("--json", "print JSON on stdout")
    .action((file: string, opts: { json?: boolean; latencyTable?: string; force?: boolean }) => {
      const table = opts.latencyTable !== undefined ? readLatencyTable(opts.latencyTable) : undefined;
      const loaded = loadTrainable(file);
      if (loaded.kind === "subnet") {
        const m = loaded.subnetManifest;
        if (table && !m) throw new UsageError(`${file} has no bnnas manifest (architecture and space), so --latency-table cannot predict its latency`);
        const ms = table && m ? predictSubnetLatency(table, opts.latencyTable!, m, file, opts.force) : undefined;
        let text = describeSubnet(loaded, opts.json === true);
        if (ms !== undefined) text = opts.json ? JSON.stringify({ ...JSON.parse(text), latency: { ms, table: opts.latencyTable, device: table!.device, threads: table!.threads, batch: table!.batch } }) + "\n" : text + `predicted latency ${ms.toFixed(4)} ms (${opts.latencyTable}: ${table!.device}, ${table!.threads} threads, batch ${table!.batch})\n`;
        io.stdout(text);
        return;
      }
      // bnnas files are read through their manifest, others through the PyTorch-convention importer.
      const { model, structure: s, manifest, countProblem } = loaded;
      const training = getTrainingRecord(model, file);
      const architectures = s.layers.reduce((n, l) => n * l.candidates.length, 1);
      const stability = trainingRankStability(loaded);
      if (table) checkTable(table, opts.latencyTable!, { structure: s, file }, opts.force);
      const lat = table ? latencyColumns(table, s, opts.latencyTable) : undefined;
      const latencySummary = lat && { table: opts.latencyTable, fixed: lat.fixed, fastest: lat.perCandidate.reduce((t, l) => t + Math.min(...l), lat.fixed), slowest: lat.perCandidate.reduce((t, l) => t + Math.max(...l), lat.fixed) };
      if (opts.json) {
        io.stdout(
          JSON.stringify({
            file,
            source: s.source,
            opset: modelOpset(model),
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
              candidates: l.candidates.map((c, k) => ({ name: c.name, position: c.position, macs: c.macs ?? null, params: c.params ?? null, batchNorms: c.batchNorms.length, indicator: c.indicator?.node ?? null, ...(lat ? { latency: lat.perCandidate[s.layers.indexOf(l)]![k]! } : {}) })),
            })),
            fixedDepth: manifest?.space.fixedDepth ?? null,
            training,
            rank_stability: stability.stability.length ? { archs: stability.archs, epochs: stability.stability } : null,
            ...(latencySummary ? { latency: latencySummary } : {}),
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
      lines.push(`${s.layers.length} choice layers, ${architectures.toLocaleString("en-US")} architectures; opset ${modelOpset(model)}`);
      if (manifest?.space.fixedDepth) lines.push(`fixed depth (search default): layers ${manifest.space.fixedDepth.join(", ")} are always identity, no other layer is`);
      lines.push(s.fixed ? `fixed part (stem, head): ${fmt(s.fixed.macs)} MACs, ${fmt(s.fixed.params)} params` : `costs: not counted${countProblem ? ` (${countProblem})` : ""}`);
      for (const [l, layer] of s.layers.entries()) {
        const mask = layer.mask.kind === "vector" ? `mask '${layer.mask.input}'` : `mask '${layer.mask.input}' row ${layer.mask.row}`;
        lines.push(`layer ${l} '${layer.label}' (${mask}):`);
        for (const c of layer.candidates) {
          const bn = c.indicator ? `indicator ${c.indicator.node}` : "no BatchNorm (scores 0)";
          const ms = lat ? `  ${lat.perCandidate[l]![layer.candidates.indexOf(c)]!.toFixed(4)} ms` : "";
          lines.push(`  ${String(c.position).padStart(2)} ${c.name.padEnd(12)} ${fmt(c.macs).padStart(13)} MACs ${fmt(c.params).padStart(11)} params${ms}  ${bn}`);
        }
      }
      if (latencySummary) lines.push(`predicted latency (${opts.latencyTable}): fixed part ${latencySummary.fixed.toFixed(4)} ms, fastest architecture ${latencySummary.fastest.toFixed(4)} ms, slowest ${latencySummary.slowest.toFixed(4)} ms`);
      lines.push(training ? `training: ${JSON.stringify(training)}` : "training: none (not trained by bnnas)");
      if (stability.stability.length) lines.push(`rank stability (Kendall tau of each epoch's BN ranking of ${stability.archs.toLocaleString("en-US")} architectures against the last epoch's): ${stability.stability.map((e) => `epoch ${e.epoch} ${e.tau.toFixed(3)}`).join(", ")}`);
      io.stdout(lines.join("\n") + "\n");
    });
}

/** A subnet: its manifest's provenance and training records, or the graph's facts for a foreign one. */
function describeSubnet(loaded: LoadedSubnet, json: boolean): string {
  const { file, model, structure: s, subnetManifest: m } = loaded;
  const params = m?.params ?? countParams(model);
  const record = m ? undefined : getTrainingRecord(model, file);
  const facts = deploymentFacts(model, file);
  if (json) {
    return JSON.stringify({
      file,
      kind: "subnet",
      space: m?.space ?? null,
      arch: m?.arch ?? null,
      candidates: m?.candidates ?? null,
      macs: m?.macs ?? null,
      params,
      input: { name: s.input.name, shape: s.input.shape, normalize: m?.input.normalize ?? null },
      classes: m?.classes ?? null,
      output: s.output,
      batchNorm: m?.batchNorm ?? null,
      deploy: facts,
      source: m?.source ?? null,
      training: m?.training ?? record ?? null,
      retraining: m?.retraining ?? [],
    }) + "\n";
  }
  const lines = [
    m ? `${file}: bnnas subnet ${m.arch.join(",")} of ${m.space} (${m.candidates.join(", ")})` : `${file}: subnet (no bnnas manifest)`,
    `input '${s.input.name}' [${s.input.shape.join(", ")}]${m?.input.normalize ? `, normalise mean [${m.input.normalize.mean.join(", ")}] std [${m.input.normalize.std.join(", ")}]` : ""}; output '${s.output}'${m?.classes ? ` (${m.classes} classes)` : ""}`,
    `${m?.macs !== undefined ? `${fmt(m.macs)} MACs, ` : ""}${fmt(params)} params; ${model.graph!.node.length} nodes${m ? `; BatchNorm ${m.batchNorm}` : ""}`,
  ];
  lines.push(`deploy: opset ${facts.opset} (IR ${facts.irVersion}), BatchNorm ${facts.batchNorm}, ${facts.quantized ? `quantized${facts.quantization ? ` (${facts.quantization.type} ${facts.quantization.format}: weights ${facts.quantization.weights}; activations ${facts.quantization.activations}; calibrated on ${facts.quantization.calibration.images} images)` : ""}` : "float (not quantized)"}`);
  if (m) lines.push(`extracted from ${m.source.file} (${m.source.kind}, sha256 ${m.source.sha256.slice(0, 12)}...)`);
  if (m?.training) lines.push(`its supernet's training: ${trainingLine(m.training as Record<string, unknown>)} (the whole record: --json)`);
  const runs = m?.retraining ?? (record ? [record as Record<string, unknown>] : []);
  if (runs.length === 0) lines.push("trained as a subnet: not yet (its weights are the supernet's)");
  for (const r of runs) lines.push(`trained as a subnet: ${trainingLine(r)}`);
  return lines.join("\n") + "\n";
}

/** One line of a training record: what trained, how long, the recipe, where the loss ended. */
function trainingLine(r: Record<string, unknown>): string {
  const fin = r.final as { loss?: number; accuracy?: number } | undefined;
  const what = r.weights === "all" ? `every weight${r.reinit ? " from scratch" : ""}` : `BatchNorms (--bn ${r.bn})`;
  const sampling = r.sampler && r.sampler !== "fixed" ? `, ${r.sampler} paths` : "";
  const acc = fin?.accuracy !== undefined ? `, train acc ${(100 * fin.accuracy).toFixed(1)}%` : "";
  return `${what}${sampling}, ${r.steps} steps (${Number(r.epochs).toFixed(2)} epochs), lr ${r.lr} ${r.lrSchedule}${r.nesterov ? " Nesterov" : ""}, final loss ${fin?.loss?.toFixed(4) ?? "?"}${acc}`;
}
