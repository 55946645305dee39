/**
 * The list of commands, one registration function each (src/cli/<command>.ts). Adding a command
 * is one import and one entry here.
 */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { register as exportSupernet } from "./export-supernet.js";
import { register as info } from "./info.js";
import { register as flops } from "./flops.js";
import { register as extractSubnet } from "./extract-subnet.js";
import { register as evalCommand } from "./eval.js";
import { register as serve } from "./serve.js";
import { register as train } from "./train.js";
import { register as scoreOnnx } from "./score-onnx.js";
import { register as demo } from "./demo.js";
import { register as bench } from "./bench.js";
import { register as latency } from "./latency.js";
import { register as report } from "./report.js";

export type RegisterCommand = (program: Command, io: ConsoleIO) => void;

export const COMMANDS: RegisterCommand[] = [
  exportSupernet,
  info,
  flops,
  extractSubnet,
  evalCommand,
  serve,
  train,
  scoreOnnx,
  demo,
  bench,
  report,
  latency,
];
