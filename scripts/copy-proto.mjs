// tsc compiles src/ but not the generated protobuf module; dist/src/onnx/proto.js imports
// ../../proto/onnx.js, so the generated code is copied beside dist/src.
import { mkdirSync, copyFileSync } from "node:fs";
mkdirSync("dist/proto", { recursive: true });
copyFileSync("proto/onnx.js", "dist/proto/onnx.js");
