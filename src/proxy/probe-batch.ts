/**
 * The minibatch the data-dependent zero-cost proxies look at: `size` training images drawn with
 * a seed (the same for every architecture, so scores compare), normalised as the supernet
 * expects.
 */
import type { Dataset } from "../data/dataset.js";
import { makeBatch, type Batch } from "../data/batches.js";
import { iota, shuffleInPlace } from "../data/shuffle.js";
import { streamFor } from "../util/random.js";
import type { Normalization } from "../structure/normalization.js";
import { OptionError } from "../errors.js";

export function probeBatch(data: Dataset, norm: Normalization, size: number, seed: number): Batch {
  if (!(Number.isInteger(size) && size >= 2)) throw new OptionError("proxyBatch", (o) => `${o} must be a whole number >= 2, not ${size}`);
  if (size > data.count) throw new OptionError("proxyBatch", (o) => `${o} ${size} is more than the ${data.count} training images`);
  const order = shuffleInPlace(iota(data.count), streamFor(seed, "proxy/batch")).slice(0, size);
  return makeBatch(data, order, norm);
}
