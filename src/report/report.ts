/**
 * `bnnas report FILE... -o report.html` as a library call: read the inputs, render, write the
 * HTML atomically. A file that cannot be used is a problem in the result (and in the report),
 * not a failure: the report is written from the rest. Only when nothing at all is usable is there
 * nothing to write.
 */
import { BnnasError, OutputError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic.js";
import { readReportInputs, type EvalInput, type Problem } from "./inputs.js";
import { renderReport, type Section } from "./render.js";

export interface ReportRequest {
  files: readonly string[];
  output: string;
  /** An evaluation already in memory (the demo's), used when no eval JSON is among the files. */
  evaluation?: Omit<EvalInput, "file"> & { file?: string };
}

export interface ReportResult {
  output: string;
  bytes: number;
  sections: Section[];
  problems: Problem[];
}

export function writeReport(req: ReportRequest): ReportResult {
  const inputs = readReportInputs(req.files);
  if (!inputs.eval && req.evaluation) inputs.eval = { ...req.evaluation, file: req.evaluation.file ?? "evaluation" };
  const usable = [inputs.supernet, inputs.subnet, inputs.search, inputs.rank, inputs.truth, inputs.eval, inputs.demo].some((x) => x !== undefined);
  if (!usable) {
    const why = inputs.problems.map((p) => p.message).join("; ");
    throw new BnnasError(`no input can be used, so no report was written${why ? `: ${why}` : ""}`);
  }
  const rendered = renderReport(inputs);
  try {
    writeFileAtomic(req.output, rendered.html);
  } catch (e) {
    if (e instanceof BnnasError) throw e;
    throw new OutputError(req.output, (e as Error).message);
  }
  return { output: req.output, bytes: Buffer.byteLength(rendered.html), sections: rendered.sections, problems: rendered.problems };
}
