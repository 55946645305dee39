/** `bnnas serve MODEL --port P [--host 127.0.0.1] [--json]`: HTTP predictions on onnxruntime-node (see src/runtime/serve/). */
import type { Command } from "commander";
import type { ConsoleIO } from "../util/io.js";
import { intOption, deviceOption, threadsOption } from "./options.js";
import { normalizationOptions, type NormalizationFlags } from "./normalization.js";
import type { RunningServer } from "../runtime/serve/server.js";
import { serveModel } from "../pipeline/serve.js";
import type { Device } from "../runtime/ort.js";

interface Options extends NormalizationFlags {
  port: number;
  host: string;
  device: Device;
  threads?: number;
  maxBody: number;
  maxBatch: number;
  quiet?: boolean;
  json?: boolean;
}

/**
 * Resolves when the process is asked to stop (SIGINT/SIGTERM). Called once the server listens, with
 * the server: tests replace it to talk to the server in-process and then stop it.
 */
export let stopSignal = (_server: RunningServer): Promise<string> =>
  new Promise((resolve) => {
    const on = (s: string) => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolve(s);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });

/** For tests: how the running server learns to stop. */
export function setStopSignal(f: (server: RunningServer) => Promise<string>): void {
  stopSignal = f;
}

export function register(program: Command, io: ConsoleIO): void {
  program
    .command("serve")
    .description("serve a subnet over HTTP: GET /health, GET /info, POST /predict (JSON arrays or PNG)")
    .argument("<model>", "subnet ONNX file (from bnnas extract-subnet, or any [N,C,H,W] -> logits model)")
    .requiredOption("--port <P>", "TCP port (0: any free port)", intOption("--port", 0, 65535))
    .option("--host <h>", "address to listen on", "127.0.0.1")
    .addOption(deviceOption())
    .addOption(threadsOption("--threads <N>", "onnxruntime intra-op threads"))
    .option("--max-body <bytes>", "largest request body", intOption("--max-body", 1024), 8 * 1024 * 1024)
    .option("--max-batch <N>", "largest batch per request", intOption("--max-batch", 1, 65536), 256)
    .option("--mean <m,...>", "input normalisation mean for PNG/pixels (models without a bnnas manifest)")
    .option("--std <s,...>", "input normalisation std for PNG/pixels (models without a bnnas manifest)")
    .option("--quiet", "no access log on stderr")
    .option("--json", "print one JSON line on stdout once listening: url, host, port, model, input, classes")
    .addHelpText(
      "after",
      `
Requests (POST /predict):
  application/json  [C,H,W] or [N,C,H,W] (or [H,W] for one channel) of model-input values, also as
                    {"input": ...}; {"pixels": ...} takes 0..255 values and normalises them
  image/png         one image: converted to the model's channels (1: luma 0.299R+0.587G+0.114B,
                    3: RGB), transparency composited over black, resized bilinearly to H x W,
                    normalised with the manifest's (or --mean/--std) normalisation
Reply: {"batch": n, "predictions": [{"argmax": k, "probabilities": [softmax of the logits]}], "model_ms": t}
Errors: 4xx with {"error": "..."}`,
    )
    .action(async (file: string, opts: Options) => {
      const serving = await serveModel(file, {
        host: opts.host,
        port: opts.port,
        maxBodyBytes: opts.maxBody,
        maxBatch: opts.maxBatch,
        log: opts.quiet ? undefined : (line) => io.stderr(`${line}\n`),
        device: opts.device,
        threads: opts.threads,
        normalize: normalizationOptions(opts),
      });
      const { server, predictor } = serving;
      const { image, classes, input, output } = predictor.info;
      if (opts.json) {
        // One line, printed once the port is bound, so a supervisor can read it to learn where to connect (e.g. after --port 0).
        io.stdout(`${JSON.stringify({ url: server.url, host: server.host, port: server.port, model: file, input, output, image, classes, normalize: predictor.info.normalize ?? null })}\n`);
      } else {
        io.stdout(`serving ${file} (${image.channels}x${image.height}x${image.width} -> ${classes} classes) on ${server.url}\n`);
      }
      if (!predictor.info.normalize) io.stderr("note: no input normalisation known (no manifest, no --mean/--std): PNG and {\"pixels\"} requests will be refused\n");
      const signal = await stopSignal(server);
      io.stderr(`${signal}: stopping\n`);
      await serving.close();
    });
}
