/**
 * Small statistics for the analyses (docs/methods.md#cross-run-analyses): summaries, Pearson and Spearman
 * correlation with two-sided p-values, moving averages. Float64, written out by hand.
 *
 * p-values: under H0 (no correlation, normal data) t = r·√((n−2)/(1−r²)) follows Student's t
 * with ν = n − 2 degrees of freedom; the two-sided p-value is P(|T| ≥ |t|) = I_{ν/(ν+t²)}(ν/2, ½),
 * with I the regularised incomplete beta function (continued fraction, modified Lentz). For
 * Spearman's ρ the same t approximation is used on the rank correlation (as scipy does).
 */

function finiteArray(xs: ArrayLike<number>, name: string): void {
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i]!)) throw new RangeError(`${name}: element ${i} is ${xs[i]}`);
  }
}

export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  finiteArray(xs, 'mean');
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/** Standard deviation with `ddof` (default 1: the sample std; numpy's default is ddof = 0). */
export function std(xs: ArrayLike<number>, ddof = 1): number {
  const n = xs.length;
  if (n - ddof <= 0) return NaN;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < n; i++) s += (xs[i]! - m) ** 2;
  return Math.sqrt(s / (n - ddof));
}

/** Standard error of the mean: sample std (ddof 1) / √n. */
export function standardError(xs: ArrayLike<number>): number {
  return std(xs, 1) / Math.sqrt(xs.length);
}

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; ~15 digits). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma: x must be > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const eps = 1e-16;
  let f = tiny;
  let C = f;
  let D = 0;
  for (let j = 1; j <= 10000; j++) {
    let num: number;
    if (j === 1) num = 1;
    else {
      const i = j - 1; // coefficient d_i
      const m = Math.floor(i / 2);
      num = i % 2 === 1 ? (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)) : (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    }
    D = 1 + num * D;
    if (Math.abs(D) < tiny) D = tiny;
    D = 1 / D;
    C = 1 + num / C;
    if (Math.abs(C) < tiny) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < eps) return f;
  }
  throw new Error(`incomplete beta continued fraction did not converge (x=${x}, a=${a}, b=${b})`);
}

/** Regularised incomplete beta I_x(a, b) for a, b > 0, x ∈ [0, 1]. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`regularizedIncompleteBeta: a, b must be > 0 (got ${a}, ${b})`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`regularizedIncompleteBeta: x must be in [0, 1], got ${x}`);
  if (x === 0 || x === 1) return x;
  const lnFront = a * Math.log(x) + b * Math.log1p(-x) - (logGamma(a) + logGamma(b) - logGamma(a + b));
  // the continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Two-sided p-value P(|T| ≥ |t|) for Student's t with `dof` degrees of freedom. */
export function studentTTwoSidedP(t: number, dof: number): number {
  if (!(dof > 0)) throw new RangeError(`studentTTwoSidedP: dof must be > 0, got ${dof}`);
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedIncompleteBeta(dof / (dof + t * t), dof / 2, 0.5);
}

export interface Correlation {
  /** Correlation coefficient (Pearson r or Spearman ρ). */
  r: number;
  /** Two-sided p-value (NaN for n < 3 or constant input). */
  p: number;
  /** t statistic r·√((n−2)/(1−r²)). */
  t: number;
  n: number;
}

function pairCheck(x: ArrayLike<number>, y: ArrayLike<number>, name: string): void {
  if (x.length !== y.length) throw new RangeError(`${name}: x has ${x.length} values, y has ${y.length}`);
  finiteArray(x, name);
  finiteArray(y, name);
}

function rOnly(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** p-value and t for a correlation coefficient r over n pairs. */
export function correlationPValue(r: number, n: number): { p: number; t: number } {
  if (n < 3 || Number.isNaN(r)) return { p: NaN, t: NaN };
  const dof = n - 2;
  if (Math.abs(r) >= 1) return { p: 0, t: r > 0 ? Infinity : -Infinity };
  const t = r * Math.sqrt(dof / (1 - r * r));
  return { p: studentTTwoSidedP(t, dof), t };
}

/** Pearson's r with its two-sided p-value. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): Correlation {
  pairCheck(x, y, 'pearson');
  const r = x.length < 2 ? NaN : rOnly(x, y);
  return { r, ...correlationPValue(r, x.length), n: x.length };
}

/** Ranks 1…n, ties given the average of the ranks they span. */
export function rankAverage(xs: ArrayLike<number>): Float64Array {
  const n = xs.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((i, j) => xs[i]! - xs[j]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && xs[idx[j + 1]!] === xs[idx[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[idx[t]!] = avg;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's ρ (Pearson r of average ranks) with the t-approximation p-value. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): Correlation {
  pairCheck(x, y, 'spearman');
  return pearson(rankAverage(x), rankAverage(y));
}

/**
 * Moving average with window w, one output per input:
 * - 'trailing': mean of xs[i−w+1 … i] (fewer at the start);
 * - 'centered': mean of xs[i−⌊w/2⌋ … i+⌊w/2⌋] clipped to the ends (w should be odd).
 */
export function movingAverage(xs: ArrayLike<number>, window: number, mode: 'trailing' | 'centered' = 'trailing'): number[] {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`movingAverage: window must be a positive integer, got ${window}`);
  finiteArray(xs, 'movingAverage');
  const n = xs.length;
  const out: number[] = [];
  const h = Math.floor(window / 2);
  for (let i = 0; i < n; i++) {
    const lo = mode === 'trailing' ? Math.max(0, i - window + 1) : Math.max(0, i - h);
    const hi = mode === 'trailing' ? i : Math.min(n - 1, i + h);
    let s = 0;
    for (let j = lo; j <= hi; j++) s += xs[j]!;
    out.push(s / (hi - lo + 1));
  }
  return out;
}

/** The correlations of field `y` against field `x` over the rows where both are known. */
export interface FieldCorrelation<X extends string, Y extends string> {
  x: X;
  y: Y;
  n: number;
  pearson: Correlation;
  spearman: Correlation;
}

/**
 * Pearson and Spearman for every (y, x) pair of fields (y outer, x inner), each over the rows
 * where both fields are non-null; a pair with fewer than 2 such rows is left out.
 */
export function fieldCorrelations<X extends string, Y extends string, R extends Record<X | Y, number | null>>(rows: readonly R[], ys: readonly Y[], xs: readonly X[]): Array<FieldCorrelation<X, Y>> {
  const out: Array<FieldCorrelation<X, Y>> = [];
  for (const y of ys) {
    for (const x of xs) {
      const pts = rows.filter((r) => r[x] !== null && r[y] !== null);
      if (pts.length < 2) continue;
      const a = pts.map((r) => r[x] as number);
      const b = pts.map((r) => r[y] as number);
      out.push({ x, y, n: pts.length, pearson: pearson(a, b), spearman: spearman(a, b) });
    }
  }
  return out;
}
