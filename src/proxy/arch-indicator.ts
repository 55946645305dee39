/** An indicator that scores whole architectures (proxy/registry.ts resolves every --indicator name to one). */
export interface ArchIndicator {
  name: string;
  description: string;
  /** Per-candidate scores (structure order) when the indicator sums over layers; exact search needs them. */
  perCandidate?: (number | null)[][];
  /**
   * Scores architectures (in the order given). `reference`: the population an ensemble ranks
   * against (default: a fixed random sample of the space).
   */
  scoreArchs(archs: readonly (readonly number[])[], reference?: readonly (readonly number[])[]): Promise<number[]>;
}

