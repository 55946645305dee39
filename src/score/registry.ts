/** The indicators `--indicator` can name; add new ones here. */
import { OptionError } from "../errors.js";
import type { Indicator } from "./indicator.js";
import { bnIndicator } from "./bn.js";
import { macsIndicator, paramsIndicator } from "./cost.js";

export const INDICATORS: readonly Indicator[] = [bnIndicator, macsIndicator, paramsIndicator];

export function getIndicator(name: string): Indicator {
  const found = INDICATORS.find((i) => i.name === name);
  if (!found) throw new OptionError("indicator", (o) => `${o} must be one of ${INDICATORS.map((i) => i.name).join(", ")}, not '${name}'`);
  return found;
}
