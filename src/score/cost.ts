/**
 * Baseline indicators: a candidate's MACs or params (as the space counts them). An architecture
 * then scores its MACs or params minus the fixed part's, which orders architectures exactly as
 * their cost does: the "bigger is better" baseline any indicator has to beat (a ranking study
 * that does not is a negative result worth publishing).
 */
import { BnnasError } from "../errors.js";
import { perCandidate, type Indicator, type IndicatorContext } from "./indicator.js";

function costIndicator(name: "macs" | "params", description: string): Indicator {
  return {
    name,
    description,
    score(ctx: IndicatorContext) {
      return perCandidate(ctx, (c, layer) => {
        const v = c[name];
        if (v === undefined) throw new BnnasError(`${ctx.file}: layer '${layer.label}' candidate '${c.name}' has no ${name} count, so the ${name} indicator cannot score it`);
        return v;
      });
    },
  };
}

export const macsIndicator = costIndicator("macs", "the candidate's multiply-accumulates (baseline: bigger is better)");
export const paramsIndicator = costIndicator("params", "the candidate's parameter count (baseline: bigger is better)");
