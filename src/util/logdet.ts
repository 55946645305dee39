/**
 * log|det(A)| of a square matrix (row-major, float64) by LU decomposition with partial pivoting,
 * what numpy.linalg.slogdet returns as its second value. -Infinity for a singular matrix.
 */
export function logAbsDet(a: Float64Array, n: number): number {
  if (a.length !== n * n) throw new RangeError(`logAbsDet: ${a.length} values for a ${n}x${n} matrix`);
  const m = Float64Array.from(a);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]!) > Math.abs(m[p * n + k]!)) p = i;
    const pivot = m[p * n + k]!;
    if (pivot === 0) return -Infinity;
    if (p !== k) for (let j = 0; j < n; j++) [m[k * n + j], m[p * n + j]] = [m[p * n + j]!, m[k * n + j]!];
    sum += Math.log(Math.abs(pivot));
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k]! / pivot;
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) m[i * n + j]! -= f * m[k * n + j]!;
    }
  }
  return sum;
}
