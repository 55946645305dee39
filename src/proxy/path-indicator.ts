/**
 * The common shape of the indicators that score a path by running it (the zero-cost proxies,
 * oneshot): each architecture's path is taken out of the supernet as a subnet and scored once
 * (repeats come from a cache), after a one-time preparation (a minibatch, held-out images) made
 * when the first architecture needs it.
 */
import type { ModelProto } from "../onnx/proto.js";
import type { LoadedSupernet } from "../supernet/load.js";
import { extractSubnet } from "../extract/subnet.js";
import type { ArchIndicator } from "./arch-indicator.js";

export function pathIndicator<Prepared>(
  loaded: LoadedSupernet,
  about: { name: string; description: string; onEvaluated?: (count: number) => void },
  prepare: () => Promise<Prepared>,
  scorePath: (subnet: ModelProto, prepared: Prepared) => Promise<number>,
): ArchIndicator {
  let prepared: Prepared | undefined;
  const cache = new Map<string, number>();
  let evaluated = 0;
  return {
    name: about.name,
    description: about.description,
    async scoreArchs(archs) {
      prepared ??= await prepare();
      const out: number[] = [];
      for (const arch of archs) {
        const key = arch.join(",");
        let score = cache.get(key);
        if (score === undefined) {
          const { model } = extractSubnet(loaded.model, loaded.structure, arch, { file: loaded.file });
          score = await scorePath(model, prepared);
          cache.set(key, score);
          about.onEvaluated?.(++evaluated);
        }
        out.push(score);
      }
      return out;
    },
  };
}
