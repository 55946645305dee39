/**
 * `bnnas score-onnx FILE`: the indicator of every candidate read straight from the supernet's
 * initializers (no runtime session), the score/MACs/params of given architectures, and the best
 * architectures under MACs/params limits (exact, evolution or random search).
 */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { addProxyOptions, choiceOption, countOption, floatOption, intOption, proxyOptions, type ProxyFlags } from "./options.js";
import { UsageError } from "../errors.js";
import { loadSupernet, type LoadedSupernet } from "../supernet/load.js";
import { checkIndicatorName, indicatorHelp, isDecomposable, resolveIndicator, type ArchIndicator } from "../proxy/registry.js";
import { parseArch, formatArch } from "../structure/arch.js";
import type { Constraints } from "../search/problem.js";
import { STRATEGY_NAMES } from "../search/strategy.js";
import { costRow, scoreSupernet, searchSupernet, searchSupernetScored, type ArchRow, type SearchOutcome } from "../pipeline/search.js";
import { deviceOption, threadsOption } from "./options.js";
import { LazyProgress } from "../util/progress.js";
import { readArchsFile } from "../pipeline/archs-file.js";
import { predictLatency, readLatencyTable, type LatencyTable } from "../latency/table.js";

interface Options extends ProxyFlags {
  arch?: string;
  archs?: string;
  search?: string;
  top: number;
  maxMacs?: number;
  minMacs?: number;
  maxParams?: number;
  latencyTable?: string;
  maxLatency?: number;
  pareto?: boolean;
  force?: boolean;
  fullSpace?: boolean;
  seed: number;
  indicator: string;
  pattern?: string;
  json?: boolean;
}

const fmtScore = (s: number | null) => (s === null ? "-" : s.toFixed(4));
const fmtCount = (n: number | null) => (n === null ? "?" : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n));

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd()).join("\n") + "\n";
}

/** The layer x candidate table: one column per mask position, named when every layer agrees. */
function scoreTable(loaded: LoadedSupernet, scores: (number | null)[][]): string {
  const layers = loaded.structure.layers;
  const positions = [...new Set(layers.flatMap((l) => l.candidates.map((c) => c.position)))].sort((a, b) => a - b);
  const header = ["layer", ...positions.map((p) => {
    const names = new Set(layers.flatMap((l) => l.candidates.filter((c) => c.position === p).map((c) => c.name)));
    const name = [...names][0]!;
    return names.size === 1 && name !== `op${p}` ? `${p}:${name}` : `${p}`;
  })];
  const rows = layers.map((layer, l) => [layer.label, ...positions.map((p) => {
    const k = layer.candidates.findIndex((c) => c.position === p);
    return k < 0 ? "" : fmtScore(scores[l]![k]!);
  })]);
  return pad([header, ...rows]);
}

function archTable(title: string, rows: ArchRow[], ranked: boolean): string {
  const timed = rows.some((r) => r.latency !== undefined);
  const head = [ranked ? "rank" : "#", "score", "MACs", "params", ...(timed ? ["ms"] : []), "arch"];
  return `${title}\n` + pad([head, ...rows.map((r, i) => [String(i + 1), r.score.toFixed(4), fmtCount(r.macs), fmtCount(r.params), ...(timed ? [r.latency!.toFixed(4)] : []), formatArch(r.arch)])]);
}

export function register(program: Command, io: ConsoleIO): void {
  addProxyOptions(program
    .command("score-onnx")
    .description("score candidates and architectures with the BN indicator read from a supernet's gammas; search the best under limits")
    .argument("<file>", "a trained supernet ONNX file (bnnas or PyTorch convention)")
    .option("--arch <a>", "score one architecture, e.g. 3,1,6,3,6,0 (-1 = identity)")
    .option("--archs <file>", "score every architecture in FILE (one per line, comma-separated)")
    .option("--search <strategy>", `find the best architectures: ${STRATEGY_NAMES.join(", ")}`, choiceOption("--search", STRATEGY_NAMES))
    .option("--top <k>", "how many architectures --search returns", intOption("--top", 1, 100000), 5)
    .option("--max-macs <n>", "limit on MACs (e.g. 475M)", countOption("--max-macs"))
    .option("--min-macs <n>", "lower limit on MACs", countOption("--min-macs"))
    .option("--max-params <n>", "limit on parameters (e.g. 5M)", countOption("--max-params"))
    .option("--latency-table <file>", "predicted latencies from a table of bnnas latency (for --max-latency, --pareto and the ms column)")
    .option("--max-latency <ms>", "limit on the predicted latency in ms (needs --latency-table)", floatOption("--max-latency", 0))
    .option("--pareto", "list the exact score/latency Pareto front (under the other limits) instead of the top K; needs --latency-table")
    .option("--force", "use a latency table measured for another supernet")
    .option("--full-space", "search the full space even where the space fixes the depth (bnnas-mbv2)")
    .option("--seed <n>", "seed for evolution/random search", intOption("--seed", 0, 2 ** 32 - 1), 0)
    .option("--indicator <name>", `indicator: ${indicatorHelp()}; the proxies and ensembles score whole architectures (one path run each: evolution or random search)`, "bn")
    )
    .addOption(deviceOption())
    .addOption(threadsOption("--threads <n>"))
    .option("--pattern <regex>", "assign BatchNorms to candidates from initializer names, with groups (?<layer>..) and (?<cand>..)")
    .option("--json", "print JSON on stdout")
    .action(async (file: string, opts: Options) => {
      if (opts.arch !== undefined && opts.archs !== undefined) throw new UsageError("give --arch or --archs, not both");
      if (opts.pareto && opts.search !== undefined && opts.search !== "exact") throw new UsageError(`--pareto is exact; drop --search ${opts.search}`);
      if ((opts.pareto || opts.maxLatency !== undefined) && opts.latencyTable === undefined) throw new UsageError(`${opts.pareto ? "--pareto" : "--max-latency"} needs --latency-table FILE (make one with bnnas latency SUPERNET -o table.json)`);
      const latencyTable: LatencyTable | undefined = opts.latencyTable !== undefined ? readLatencyTable(opts.latencyTable) : undefined;
      if (opts.pareto) opts.search = "exact";
      checkIndicatorName(opts.indicator); // an unknown name is refused before the file is read
      const loaded = loadSupernet(file, { pattern: opts.pattern });
      const { structure } = loaded;
      if (!isDecomposable(opts.indicator)) return scoreWhole(io, file, loaded, opts);
      const scored = scoreSupernet(loaded, opts.indicator);
      const { indicator, scores } = scored;
      const known = scored.costsKnown;

      let archs: ArchRow[] | undefined;
      if (opts.arch !== undefined) archs = [scored.row(parseArch(opts.arch, structure))];
      if (opts.archs !== undefined) archs = readArchsFile(opts.archs, structure).map(scored.row);
      if (archs && latencyTable) archs = archs.map((r) => ({ ...r, latency: predictLatency(latencyTable, structure, r.arch, opts.latencyTable) }));

      let best: ArchRow[] | undefined;
      let searchInfo: SearchOutcome["info"] | undefined;
      const constraints: Constraints = { maxMacs: opts.maxMacs, minMacs: opts.minMacs, maxParams: opts.maxParams, ...(opts.maxLatency !== undefined ? { maxLatency: opts.maxLatency } : {}) };
      const limited = Object.values(constraints).some((v) => v !== undefined);
      if (opts.search === undefined && (limited || opts.fullSpace)) throw new UsageError("--max-macs, --min-macs, --max-params, --max-latency and --full-space apply to --search; add --search exact (or evolution, random)");
      if (opts.search !== undefined) {
        const latency = latencyTable ? { table: latencyTable, file: opts.latencyTable!, force: opts.force } : undefined;
        ({ best, info: searchInfo } = searchSupernet(loaded, scored, { strategy: opts.search, top: opts.top, seed: opts.seed, constraints, fullSpace: opts.fullSpace, latency, pareto: opts.pareto }));
        if (best.length === 0 && !opts.json) io.stderr(`bnnas: no architecture satisfies the limits ${JSON.stringify(constraints)}\n`);
      }

      if (opts.json) {
        const out: Record<string, unknown> = {
          file,
          source: structure.source,
          indicator: indicator.name,
          fixed: known ? structure.fixed : null,
          layers: structure.layers.map((layer, l) => ({
            label: layer.label,
            candidates: layer.candidates.map((c, k) => ({ name: c.name, position: c.position, score: scores[l]![k]!, macs: known ? c.macs ?? null : null, params: known ? c.params ?? null : null })),
          })),
        };
        if (archs) out.archs = archs;
        if (best) { out.search = searchInfo; out.best = best; }
        if (best && opts.pareto) out.pareto = true;
        if (latencyTable) out.latencyTable = { file: opts.latencyTable, device: latencyTable.device, threads: latencyTable.threads, batch: latencyTable.batch, cpu: latencyTable.cpu };
        io.stdout(JSON.stringify(out) + "\n");
        return;
      }
      let text = `${file} (${structure.source === "bnnas" ? "bnnas supernet" : "PyTorch-convention supernet"}), indicator ${indicator.name}: ${indicator.description}\n`;
      if (latencyTable) text += `latency (ms) predicted by ${opts.latencyTable}: ${latencyTable.device}, ${latencyTable.threads} threads, batch ${latencyTable.batch}, ${latencyTable.cpu}\n`;
      text += scoreTable(loaded, scores);
      if (!known) text += `MACs/params unknown: ${loaded.countProblem ?? "no cost information"}\n`;
      if (archs) text += "\n" + archTable("architectures:", archs, false);
      if (best) {
        const limits = Object.entries(constraints).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join(", ") || "no limits";
        const title = opts.pareto ? `score/latency Pareto front, fastest first: ${best.length} architectures` : `best ${best.length} by ${opts.search} search`;
        text += "\n" + archTable(`${title} (${searchInfo!.space} space, ${limits}; ${searchInfo!.seconds.toFixed(3)} s):`, best, true);
      }
      io.stdout(text);
    });
}

/** score-onnx with an indicator that scores whole architectures (zero-cost proxies, ensembles). */
async function scoreWhole(io: ConsoleIO, file: string, loaded: LoadedSupernet, opts: Options): Promise<void> {
  if (opts.arch === undefined && opts.archs === undefined && opts.search === undefined) throw new UsageError(`--indicator ${opts.indicator} scores whole architectures, not candidates: give --arch, --archs or --search evolution|random`);
  if (opts.latencyTable !== undefined) throw new UsageError(`--latency-table works with the indicators that sum over layers for now; drop it or use --indicator bn`);
  const progress = new LazyProgress(io, `${opts.indicator} paths`, opts.json);
  let done = 0;
  const indicator: ArchIndicator = resolveIndicator(opts.indicator, loaded, proxyOptions(opts, io, () => progress.update(++done, Math.max(done, 1))));
  let archs: ArchRow[] | undefined;
  const given = opts.arch !== undefined ? [parseArch(opts.arch, loaded.structure)] : opts.archs !== undefined ? readArchsFile(opts.archs, loaded.structure) : undefined;
  if (given) {
    const scores = await indicator.scoreArchs(given);
    archs = given.map((a, i) => costRow(loaded, a, scores[i]!));
  }
  let best: ArchRow[] | undefined;
  let info: SearchOutcome["info"] | undefined;
  const constraints: Constraints = { maxMacs: opts.maxMacs, minMacs: opts.minMacs, maxParams: opts.maxParams };
  if (opts.search !== undefined) ({ best, info } = await searchSupernetScored(loaded, indicator, { strategy: opts.search, top: opts.top, seed: opts.seed, constraints, fullSpace: opts.fullSpace, pareto: opts.pareto }));
  progress.finish();
  if (opts.json) {
    io.stdout(JSON.stringify({ file, source: loaded.structure.source, indicator: indicator.name, evaluated: done, ...(archs ? { archs } : {}), ...(best ? { search: info, best } : {}) }) + "\n");
    return;
  }
  let text = `${file}, indicator ${indicator.name}: ${indicator.description} (${done} path evaluations)\n`;
  if (archs) text += "\n" + archTable("architectures:", archs, false);
  if (best) {
    const limits = Object.entries(constraints).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join(", ") || "no limits";
    text += "\n" + archTable(`best ${best.length} by ${opts.search} search (${info!.space} space, ${limits}; ${info!.seconds.toFixed(1)} s):`, best, true);
  }
  io.stdout(text);
}
