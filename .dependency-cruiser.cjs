/**
 * The layering of src/ (README, "Development"): imports point one way, from cli/ down to onnx/
 * and util/. Each folder lists the folders it may import; errors.ts is the bottom of everything
 * and index.ts (the library entry) is imported by nobody. `npm test` runs this.
 */
const LAYERS = {
  util: [],
  onnx: ["util"],
  structure: ["util"],
  opset: ["onnx", "util"],
  model: ["opset", "onnx", "util"],
  autodiff: ["opset", "onnx", "util"],
  data: ["model", "onnx", "structure", "util"],
  ops: ["model", "onnx", "structure", "util"],
  space: ["ops", "model", "onnx", "structure", "util"],
  supernet: ["space", "ops", "opset", "model", "onnx", "structure", "util"],
  score: ["supernet", "model", "onnx", "structure", "util"],
  search: ["score", "structure", "util"],
  runtime: ["supernet", "data", "model", "onnx", "structure", "util"],
  extract: ["supernet", "opset", "model", "onnx", "structure", "util"],
  train: ["runtime", "score", "supernet", "data", "autodiff", "opset", "model", "onnx", "structure", "util"],
  // Architecture-level indicators (zero-cost proxies, ensembles): they run paths, so they sit above train/extract/runtime.
  proxy: ["train", "extract", "runtime", "search", "score", "supernet", "data", "autodiff", "opset", "model", "onnx", "structure", "util"],
  latency: ["runtime", "extract", "search", "score", "supernet", "opset", "model", "onnx", "structure", "util"],
  // The HTML report: below pipeline, so the demo can write one.
  report: ["train", "extract", "runtime", "search", "score", "supernet", "space", "ops", "data", "autodiff", "opset", "model", "onnx", "structure", "util"],
  pipeline: ["proxy", "latency", "report", "train", "extract", "runtime", "search", "score", "supernet", "space", "ops", "data", "autodiff", "opset", "model", "onnx", "structure", "util"],
  cli: ["pipeline", "proxy", "latency", "report", "train", "extract", "runtime", "search", "score", "supernet", "space", "ops", "data", "autodiff", "opset", "model", "onnx", "structure", "util"],
};

const layerRules = Object.entries(LAYERS).map(([layer, allowed]) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ may import only ${allowed.length ? allowed.join(", ") : "nothing else in src/"} (and errors.ts)`,
  severity: "error",
  from: { path: `^src/${layer}/` },
  to: { path: "^src/", pathNot: `^src/(${[layer, ...allowed].join("|")})/|^src/errors\\.ts$` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    { name: "no-circular", severity: "error", from: { path: "^src/" }, to: { circular: true } },
    { name: "errors-at-the-bottom", severity: "error", from: { path: "^src/errors\\.ts$" }, to: { path: "^src/" , pathNot: "^src/errors\\.ts$" } },
    { name: "nobody-imports-the-entry", severity: "error", from: { path: "^src/" }, to: { path: "^src/index\\.ts$" } },
    { name: "every-folder-has-a-layer", severity: "error", from: { path: "^src/[^/]+/", pathNot: `^src/(${Object.keys(LAYERS).join("|")})/` }, to: {} },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
