/** How the indicators that run paths (the zero-cost proxies, oneshot) get their data and engine. */
import type { Normalization } from "../structure/normalization.js";
import type { Device } from "../runtime/ort.js";
import type { LoadRequest } from "../data/load.js";

export interface ProxyOptions {
  /** Training data for the minibatch proxies (default: as train's --data), any format loadData reads. */
  data?: string;
  dataOptions?: Omit<LoadRequest, "want">;
  norm?: Normalization;
  /** Minibatch size (default 64). */
  batch?: number;
  /** Seed of the minibatch draw (default 0). */
  seed?: number;
  device?: Device;
  threads?: number;
  /** Held-out images oneshot evaluates each path on (default 2000). */
  oneshotImages?: number;
  /** Called after each path evaluation. */
  onEvaluated?: (count: number) => void;
}
