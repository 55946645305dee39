/**
 * Where an op sits and what it costs: feature-map shapes, the output size of a kxk window, and
 * MACs/params arithmetic shared by the op kinds and the emitter.
 */

/** Channels and spatial size of a feature map (batch excluded). */
export interface Shape {
  c: number;
  h: number;
  w: number;
}

/** Where an op sits: input shape, output channels, stride. */
export interface OpPlace {
  in: Shape;
  out: number;
  stride: number;
}

export interface OpCost {
  /** Multiply-accumulates of Conv and Gemm only. */
  macs: number;
  /** Conv/Linear weights, Linear bias, BatchNorm gamma and beta. */
  params: number;
}

/** Output size of a kxk window with padding k//2 and stride s (odd k keeps size at stride 1). */
export function windowOut(size: number, k: number, stride: number): number {
  return Math.floor((size + 2 * Math.floor(k / 2) - k) / stride) + 1;
}

/** Output shape of a kxk-window op at `place` (out channels, windowOut on both spatial dims). */
export function windowShape(place: OpPlace, k: number): Shape {
  return { c: place.out, h: windowOut(place.in.h, k, place.stride), w: windowOut(place.in.w, k, place.stride) };
}

export function convCost(inC: number, outC: number, k: number, group: number, outH: number, outW: number): OpCost {
  const weights = outC * (inC / group) * k * k;
  return { macs: outH * outW * weights, params: weights };
}

export function addCost(a: OpCost, b: OpCost): OpCost {
  return { macs: a.macs + b.macs, params: a.params + b.params };
}

export const bnCost = (c: number): OpCost => ({ macs: 0, params: 2 * c });
