/**
 * bnnas as a library: declare a search space in TypeScript, export it as an ONNX supernet, load
 * supernets (bnnas or PyTorch convention), train them, score them with the BN indicator, search,
 * extract, evaluate and serve subnets. The CLI (src/cli/) is built on exactly these functions:
 * the pipeline functions (src/pipeline/) are what each command and the demo run.
 */
export { defineSpace, ops, candidate, fixed, layer } from "./space/define.js";
export type { SpaceSpec, LayerSpec, CandidateSpec, FixedOpSpec, OpSpec } from "./space/spec.js";
export { BUILTIN_SPACES, builtinSpace, loadSpace, readSpaceFile } from "./space/builtins.js";
export { validateSpace } from "./space/validate.js";
export { parseArch, checkArch, formatArch, archCost, type Arch } from "./structure/arch.js";
export { buildSupernet, exportSupernet, spaceStructure } from "./supernet/export.js";
export { loadSupernet, type LoadedSupernet } from "./supernet/load.js";
export type { SupernetStructure } from "./structure/structure.js";
export { getIndicator, INDICATORS } from "./score/registry.js";
export type { Indicator } from "./score/indicator.js";
export { ArchScorer } from "./score/arch-scorer.js";
export { getStrategy, STRATEGY_NAMES } from "./search/strategy.js";
export { problemFromStructure, type SearchProblem, type Constraints, type Evaluated } from "./search/problem.js";
export { exactTopK, exactPareto } from "./search/exact.js";
export { buildLatencyTable } from "./latency/build.js";
export { validateLatencyTable } from "./latency/validate.js";
export { readLatencyTable, predictLatency, latencyColumns, checkTable } from "./latency/table.js";
export { extractSubnet } from "./extract/subnet.js";
export { readModel, writeModel, decodeModel, encodeModel } from "./model/model-io.js";
export { loadDataset } from "./data/dataset.js";
export { loadData, detectFormat, DATA_FORMATS, type DataFormat, type DataOptions } from "./data/load.js";
export { evaluate } from "./runtime/eval.js";
export { train, type TrainConfig, type TrainRun, type TrainResult } from "./train/trainer.js";
export { createEngine, type EngineOptions, type TrainEngine, type StepResult } from "./train/engine.js";
export { Predictor } from "./runtime/serve/predictor.js";
export { startServer, type ServeOptions, type RunningServer } from "./runtime/serve/server.js";
export { runTraining, type TrainRunRequest, type TrainRunResult } from "./pipeline/train-run.js";
export { scoreSupernet, searchSupernet, type ArchRow, type SearchRequest, type SearchOutcome } from "./pipeline/search.js";
export { evaluateFile, type EvaluateRequest, type EvaluateOutcome } from "./pipeline/evaluate.js";
export { extractToFile, type ExtractRequest, type ExtractOutcome } from "./pipeline/extract.js";
export { runDemo, type DemoOptions, type DemoSummary } from "./pipeline/demo.js";
export { serveModel, type ServeRequest, type Serving } from "./pipeline/serve.js";
export { buildTruthTable, sampleArchs, type TruthRequest, type TruthLine } from "./pipeline/truth.js";
export { writeReport, type ReportRequest, type ReportResult } from "./report/report.js";
export * from "./errors.js";
