/**
 * Serving a subnet over HTTP, as `bnnas serve` does it: open the model (a supernet is refused:
 * serve one of its subnets), create the predictor, listen. The caller stops it with `close()`.
 */
import { UsageError } from "../errors.js";
import { readModel } from "../model/model-io.js";
import { modelKind } from "../supernet/model-kind.js";
import type { Normalization } from "../structure/normalization.js";
import type { Device } from "../runtime/ort.js";
import { Predictor } from "../runtime/serve/predictor.js";
import { startServer, type RunningServer, type ServeOptions } from "../runtime/serve/server.js";

export interface ServeRequest extends Omit<ServeOptions, "port"> {
  /** TCP port; 0 picks a free one (see the result's `server.port`). */
  port: number;
  device?: Device;
  threads?: number;
  /** Input normalisation for PNG/pixel requests, for models without a bnnas manifest. */
  normalize?: Normalization;
}

export interface Serving {
  server: RunningServer;
  predictor: Predictor;
  /** Stops listening, then releases the model. */
  close(): Promise<void>;
}

export async function serveModel(file: string, req: ServeRequest): Promise<Serving> {
  const model = readModel(file);
  if (modelKind(model) === "supernet") {
    throw new UsageError(`${file} is a supernet (it takes mask inputs); serve a subnet: bnnas extract-subnet ${file} --arch A -o subnet.onnx`);
  }
  const predictor = await Predictor.create(model, file, { device: req.device, threads: req.threads, normalize: req.normalize });
  let server: RunningServer;
  try {
    server = await startServer(predictor, req);
  } catch (e) {
    await predictor.close();
    throw e;
  }
  return {
    server,
    predictor,
    close: async () => {
      await server.close();
      await predictor.close();
    },
  };
}
