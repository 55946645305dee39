/**
 * Input normalisation of an image model, per channel, applied to pixels scaled to [0, 1]:
 * x = (p / 255 - mean[c]) / std[c]. One entry per channel, or one for all channels. Spaces,
 * supernet and subnet manifests, data batching and serving all use this one type.
 */
export interface Normalization {
  mean: number[];
  std: number[];
}
